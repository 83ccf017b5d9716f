/**
 * What each `capstan` command accepts: its options, its arguments and its usage line. The parser
 * (args.ts) refuses anything not declared here, and `--help` prints the same text, so the help and
 * the behaviour cannot drift apart.
 */
import { MAX_DEV_NODES } from "../dev/dev-nodes";
export interface OptionSpec {
  type: "string" | "boolean";
  /** `--name VALUE  what it does`, for the help text. */
  help: string;
}

export interface CommandSpec {
  /** `invocations list`. */
  name: string;
  /** The arguments after the command's name, e.g. `<id> [--deployment latest|<id>]`. */
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Flags that belong to another command: the hint says which (`call --delay` → use send). */
  misplaced?: Record<string, string>;
  /** A runnable command: its positional arguments (names for messages), the first minArgs required. */
  run?: { argNames: string[]; minArgs: number };
  subcommands?: Record<string, CommandSpec>;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  "admin-url": { type: "string", help: "admin API (CAPSTAN_ADMIN_URL, default http://127.0.0.1:9070)" },
  "ingress-url": { type: "string", help: "ingress (CAPSTAN_INGRESS_URL, default http://127.0.0.1:8080)" },
  "data-dir": {
    type: "string",
    help: "the local runtime's data directory: its store, and its admin token (CAPSTAN_DATA_DIR, default .capstan)",
  },
  json: { type: "boolean", help: "machine-readable output" },
  help: { type: "boolean", help: "this help" },
};

/**
 * The values `--status` accepts: exactly the words `invocations list` prints in its status column
 * (`completed (failed)` is filtered with `failed`, or with `completed` for every outcome).
 */
export const LIST_STATUSES = [
  "scheduled",
  "inboxed",
  "running",
  "suspended",
  "backing-off",
  "paused",
  "completed",
  "succeeded",
  "failed",
] as const;

const runtimeOptions = (withLambda: boolean): Record<string, OptionSpec> => ({
  "ingress-port": { type: "string", help: "ingress port (CAPSTAN_INGRESS_PORT, default 8080)" },
  "admin-port": { type: "string", help: "admin port (CAPSTAN_ADMIN_PORT, default 9070)" },
  "checkpoint-port": {
    type: "string",
    help: "the handlers' checkpoint listener port (CAPSTAN_CHECKPOINT_PORT)",
  },
  partitions: { type: "string", help: "partitions, fixed for a data dir (CAPSTAN_PARTITIONS)" },
  host: { type: "string", help: "listen address (CAPSTAN_HOST, default 127.0.0.1)" },
  ...(withLambda && {
    "lambda-port": { type: "string", help: "local Lambda endpoint port (CAPSTAN_LAMBDA_PORT, default 9090)" },
    "handlers-dir": { type: "string", help: "where functions are found (CAPSTAN_HANDLERS_DIR)" },
    "no-watch": { type: "boolean", help: "do not rebuild functions when their files change" },
    nodes: {
      type: "string",
      help: `run N runtime nodes as processes over DynamoDB Local (1-${MAX_DEV_NODES}; needs Java 17)`,
    },
  }),
});

const leaf = (
  name: string,
  usage: string,
  summary: string,
  argNames: string[],
  minArgs: number,
  options: Record<string, OptionSpec> = {},
  misplaced?: Record<string, string>,
): CommandSpec => ({
  name,
  usage,
  summary,
  options,
  run: { argNames, minArgs },
  ...(misplaced && { misplaced }),
});

const group = (name: string, summary: string, subcommands: Record<string, CommandSpec>): CommandSpec => ({
  name,
  usage: Object.keys(subcommands).join(" | "),
  summary,
  options: {},
  subcommands,
});

const idempotencyKey: OptionSpec = {
  type: "string",
  help: "the same key within the retention gives the same invocation (and result)",
};

const invocationAction = (action: string, summary: string): CommandSpec =>
  leaf(`invocations ${action}`, "<id>", summary, ["invocation id"], 1);

export const COMMAND_SPECS: Record<string, CommandSpec> = {
  dev: leaf(
    "dev",
    "[options]",
    "run the platform locally (what 'npm start' runs)",
    [],
    0,
    runtimeOptions(true),
  ),
  serve: leaf(
    "serve",
    "[options]",
    "run the runtime alone (containers); invokes Lambda on AWS (or CAPSTAN_LAMBDA_ENDPOINT) and HTTP deployments",
    [],
    0,
    {
      ...runtimeOptions(false),
      "create-table": {
        type: "boolean",
        help: "with CAPSTAN_STORE=dynamodb: create the table and bucket on local endpoints (never on AWS)",
      },
    },
  ),
  deployments: group("deployments", "register, list and remove deployments", {
    register: leaf(
      "deployments register",
      "<url|arn> [--force]",
      "register an HTTP deployment or a Lambda function (name or ARN, qualified by version)",
      ["deployment: an http(s) URL or a Lambda function name/ARN"],
      1,
      { force: { type: "boolean", help: "replace the services' current deployment even if incompatible" } },
    ),
    list: leaf("deployments list", "", "list deployments", [], 0),
    remove: leaf("deployments remove", "<id>", "remove a deployment", ["deployment id"], 1),
  }),
  services: group("services", "list and describe registered services", {
    list: leaf("services list", "", "list services", [], 0),
    describe: leaf("services describe", "<name>", "a service's handlers and deployment", ["service name"], 1),
  }),
  invocations: group("invocations", "inspect and control invocations", {
    list: leaf(
      "invocations list",
      "[--service S] [--status S] [--key K] [--from T] [--to T] [--limit N] [--cursor C | --all]",
      "list invocations, newest first, a page at a time (the next page's --cursor is printed)",
      [],
      0,
      {
        service: { type: "string", help: "only this service" },
        status: { type: "string", help: `only this status: ${LIST_STATUSES.join(", ")}` },
        key: { type: "string", help: "only this object key or workflow id" },
        from: { type: "string", help: "created at or after T (ISO 8601 or epoch ms)" },
        to: { type: "string", help: "created before T (ISO 8601 or epoch ms)" },
        limit: { type: "string", help: "at most N per page (default 100, at most 1000)" },
        cursor: { type: "string", help: "the page after the one that printed this cursor" },
        all: { type: "boolean", help: "every page, one after the other" },
      },
    ),
    logs: leaf(
      "invocations logs",
      "<id>",
      "what the handler printed, attempt by attempt (locally; on AWS: where the logs are)",
      ["invocation id"],
      1,
    ),
    describe: invocationAction("describe", "the invocation and its journal as a timeline"),
    cancel: invocationAction("cancel", "cancel: delivered at the handler's next await"),
    kill: invocationAction("kill", "stop at once, without compensation"),
    pause: invocationAction("pause", "stop retrying until resumed"),
    resume: leaf(
      "invocations resume",
      "<id> [--deployment latest|<deployment id>]",
      "retry a paused or backing-off invocation now; --deployment moves it onto other code " +
        "(its journal replays there)",
      ["invocation id"],
      1,
      {
        deployment: {
          type: "string",
          help: "'latest' (the service's current deployment) or a deployment id",
        },
      },
    ),
    "restart-as-new": invocationAction(
      "restart-as-new",
      "a new invocation with the same target and input as a completed one; prints its id",
    ),
    purge: invocationAction("purge", "forget a completed invocation"),
  }),
  state: group("state", "read and patch an object's or workflow's K/V state", {
    get: leaf("state get", "<object> <key>", "the state of one key", ["object name", "key"], 2),
    set: leaf(
      "state set",
      "<object> <key> <stateKey> <json>",
      "set one state entry",
      ["object name", "key", "state key", "JSON value"],
      4,
    ),
  }),
  sql: leaf("sql", '"<SELECT ...>"', "read-only SQL; tables: invocations, journal, state", ["query"], 1),
  call: leaf(
    "call",
    "<svc>/<handler> | <object>/<key>/<handler> [json] [--idempotency-key K]",
    "call a handler through the ingress and print its result",
    ["target: <service>/<handler> or <object>/<key>/<handler>", "JSON input"],
    1,
    { "idempotency-key": idempotencyKey },
    { delay: "a call waits for its result; delay a one-way 'send' instead" },
  ),
  send: leaf(
    "send",
    "<svc>/<handler> | <object>/<key>/<handler> [json] [--delay 10s] [--idempotency-key K]",
    "one-way send through the ingress; prints the new invocation's id",
    ["target: <service>/<handler> or <object>/<key>/<handler>", "JSON input"],
    1,
    {
      delay: { type: "string", help: "start no earlier than this from now: 500ms, 10s, 5m, 2h, 1d" },
      "idempotency-key": idempotencyKey,
    },
  ),
  health: leaf("health", "", "is the runtime alive and ready", [], 0),
  cluster: leaf(
    "cluster",
    "",
    "the nodes (address, pid, live, heartbeat) and each partition's leader and epoch",
    [],
    0,
  ),
  "admin-token": leaf(
    "admin-token",
    "",
    "the admin API's bearer token (CAPSTAN_ADMIN_TOKEN or the data dir's)",
    [],
    0,
  ),
  console: leaf(
    "console",
    "",
    "the web console's address, with the admin token for the browser to pick up (keep it private)",
    [],
    0,
  ),
  "identity-key": leaf(
    "identity-key",
    "",
    "the public key the runtime signs requests to handlers with: set it as CAPSTAN_IDENTITY_PUBLIC_KEYS on deployments",
    [],
    0,
  ),
};

/** The spec `words` name, and how many of them it used (1 for a command, 2 for a subcommand). */
export function commandSpec(
  command: string | undefined,
  sub: string | undefined,
): { spec: CommandSpec; depth: number } | undefined {
  if (command === undefined || !Object.hasOwn(COMMAND_SPECS, command)) return undefined;
  const spec = COMMAND_SPECS[command]!;
  if (spec.subcommands && sub !== undefined && Object.hasOwn(spec.subcommands, sub)) {
    return { spec: spec.subcommands[sub]!, depth: 2 };
  }
  return { spec, depth: 1 };
}

/** Every option of every command, for finding the command before parsing strictly. */
export function allOptions(): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  const visit = (spec: CommandSpec): void => {
    Object.assign(out, spec.options);
    for (const s of Object.values(spec.subcommands ?? {})) visit(s);
  };
  for (const s of Object.values(COMMAND_SPECS)) visit(s);
  return out;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options).map(
    ([name, o]) => `  --${name}${o.type === "string" ? " VALUE" : ""}`.padEnd(26) + o.help,
  );
}

/** `capstan invocations resume --help`. */
export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: capstan ${spec.name} ${spec.usage}`.trimEnd(), "", spec.summary];
  if (spec.subcommands) {
    lines.push("", "Subcommands:");
    for (const s of Object.values(spec.subcommands)) {
      lines.push(`  capstan ${s.name} ${s.usage}`.trimEnd());
    }
  }
  if (Object.keys(spec.options).length > 0) lines.push("", "Options:", ...optionLines(spec.options));
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  return lines.join("\n");
}

/** `capstan --help`: one line per runnable command. */
export function generalUsage(): string {
  const lines: string[] = [];
  const visit = (spec: CommandSpec): void => {
    if (spec.run) lines.push(`  ${spec.name} ${spec.usage}`.trimEnd());
    for (const s of Object.values(spec.subcommands ?? {})) visit(s);
  };
  for (const s of Object.values(COMMAND_SPECS)) visit(s);
  return [
    "capstan — durable execution for AWS Lambda",
    "",
    "Usage: capstan <command> [options]     capstan <command> --help for a command's options",
    "",
    ...lines,
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "Exit codes: 0 ok, 1 the runtime refused the request, 2 usage error, 3 runtime not reachable.",
  ].join("\n");
}
