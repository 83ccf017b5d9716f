#!/usr/bin/env node
/** `capstan`: the CLI. `dev` runs the local platform; everything else wraps the admin/ingress APIs. */
silenceAwsSdkNodeVersionNotice();
import { loadCliConfig } from "../config/config";
import { parseArgs, flag, UsageError, type ParsedArgs } from "./args";
import { COMMANDS } from "./commands";
import { generalUsage, helpText } from "./command-specs";
import { CliError, EXIT_API_ERROR, EXIT_USAGE } from "./http-client";

export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s + "\n"),
  err: (s: string) => void = (s) => process.stderr.write(s + "\n"),
): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`error: ${e.message}\n\n${e.usage ?? generalUsage()}`);
    return EXIT_USAGE;
  }
  const name = args.positionals[0];
  const spec = args.spec;
  if (name === undefined || name === "help") {
    out(generalUsage());
    return name === undefined && !args.flags.has("help") ? EXIT_USAGE : 0;
  }
  if (spec === undefined) {
    err(`error: unknown command '${name}'\n\n${generalUsage()}`);
    return EXIT_USAGE;
  }
  if (args.flags.has("help")) {
    out(helpText(spec));
    return 0;
  }
  if (spec.run === undefined) {
    const sub = args.positionals[1];
    err(
      `error: ${sub === undefined ? "missing subcommand" : `unknown ${name} subcommand '${sub}'`}\n\n${helpText(spec)}`,
    );
    return EXIT_USAGE;
  }
  if (name === "dev") {
    const { runDev } = await import("../dev/dev-platform");
    return runDev(args);
  }
  if (name === "serve") {
    const { runServe } = await import("./serve");
    return runServe(args);
  }
  const command = COMMANDS[name]!;
  const config = loadCliConfig({
    adminUrl: flag(args, "admin-url"),
    ingressUrl: flag(args, "ingress-url"),
    dataDir: flag(args, "data-dir"),
  });
  try {
    await command({ ...config, json: args.flags.has("json"), out }, args);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}\n\n${e.usage ?? helpText(spec)}`);
      return EXIT_USAGE;
    }
    if (e instanceof CliError) {
      err(`error: ${e.message}`);
      return e.exitCode;
    }
    err(`error: ${String((e as Error)?.message ?? e)}`);
    return EXIT_API_ERROR;
  }
}

/** Runs the CLI as a process: the exit code is `main`'s. Called by the `capstan` bin (runtime/bin). */
export function runCommandLine(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runCommandLine(process.argv.slice(2));

/**
 * The AWS SDK warns on every start that future releases need Node 22; Capstan supports Node 20 and
 * 22, so the notice is noise on a developer's terminal. Every other warning still prints.
 */
function silenceAwsSdkNodeVersionNotice(): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
    if (String(warning instanceof Error ? warning.message : warning).startsWith("NodeVersionSupportWarning"))
      return;
    (emit as (...a: unknown[]) => void)(warning, ...rest);
  };
}
