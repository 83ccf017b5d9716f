/**
 * Strict argv parsing on `node:util` parseArgs: each command declares its options and how many
 * positionals it takes, and anything else — an unknown flag, a flag another command owns, a missing
 * value, an extra argument — is a UsageError (exit code 2) rather than silently ignored.
 */
import { parseArgs as parseNodeArgs } from "node:util";
import {
  GLOBAL_OPTIONS,
  allOptions,
  commandSpec,
  helpText,
  type CommandSpec,
  type OptionSpec,
} from "./command-specs";

export interface ParsedArgs {
  /** The command and subcommand first (`invocations`, `list`), then the command's arguments. */
  positionals: string[];
  /** `--name value` as a string, a boolean flag as `true`. */
  flags: Map<string, string | true>;
  /** The spec the arguments were checked against: its help text answers `--help`. */
  spec?: CommandSpec;
}

/** A mistake in how the command was called: exit code 2, with the command's usage. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    /** The usage to print with the message: the command's own when known. */
    readonly usage?: string,
  ) {
    super(message);
  }
}

type NodeOptions = Record<string, { type: "string" | "boolean" }>;

function nodeOptions(options: Record<string, OptionSpec>): NodeOptions {
  const out: NodeOptions = {};
  for (const [name, o] of Object.entries(options)) out[name] = { type: o.type };
  return out;
}

/**
 * Parses `argv` for the command it names. The command and subcommand are found first with every
 * option known (so a flag may come before the subcommand), then the whole line is checked strictly
 * against that command's own options.
 *
 * @example
 * parseArgs(["invocations", "list", "--status", "failed"]); // flags: status → "failed"
 * parseArgs(["call", "Greeter/greet", "--delay", "5s"]);     // throws UsageError: call has no --delay
 */
export function parseArgs(argv: string[]): ParsedArgs {
  const loose = parseNodeArgs({
    args: argv,
    options: nodeOptions(allOptions()),
    strict: false,
    allowPositionals: true,
  });
  const words = loose.positionals;
  const found = commandSpec(words[0], words[1]);
  if (found === undefined) {
    // Unknown command (or none): main prints the general usage; --help there is no mistake.
    return { positionals: words, flags: toMap(loose.values) };
  }
  const { spec, depth } = found;
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({
      args: argv,
      options: nodeOptions({ ...GLOBAL_OPTIONS, ...spec.options }),
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(explain(e as Error, argv, spec), helpText(spec));
  }
  const flags = toMap(parsed.values);
  const args = parsed.positionals.slice(depth);
  if (!flags.has("help") && spec.run !== undefined) {
    if (args.length < spec.run.minArgs) {
      throw new UsageError(`missing ${spec.run.argNames[args.length] ?? "argument"}`, helpText(spec));
    }
    if (args.length > spec.run.argNames.length) {
      throw new UsageError(
        `unexpected argument ${JSON.stringify(args[spec.run.argNames.length])}`,
        helpText(spec),
      );
    }
  }
  return { positionals: parsed.positionals, flags, spec };
}

function toMap(values: Record<string, unknown>): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === "string") flags.set(k, v);
    else if (v === true) flags.set(k, true);
  }
  return flags;
}

/** node:util's messages name the mistake; a flag another command owns gets a pointer to it. */
function explain(e: Error, argv: string[], spec: CommandSpec): string {
  const code = (e as { code?: string }).code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = argv.find((a) => a.startsWith("-") && !isKnown(a, spec));
    const name = flag?.replace(/^-+/, "").split("=")[0] ?? "";
    const hint = spec.misplaced?.[name];
    return `unknown option ${flag ?? ""} for '${spec.name}'${hint ? `: ${hint}` : ""}`.trim();
  }
  return e.message.split("\n")[0]!;
}

function isKnown(arg: string, spec: CommandSpec): boolean {
  if (arg === "-" || arg === "--") return true;
  const name = arg.replace(/^-+/, "").split("=")[0]!;
  return name in GLOBAL_OPTIONS || name in spec.options;
}

/** A string flag's value. */
export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}
