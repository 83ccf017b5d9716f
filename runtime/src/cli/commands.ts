/** The `capstan` subcommands other than `dev`: thin wrappers over the admin and ingress APIs. */
import { flag, UsageError, type ParsedArgs } from "./args";
import { LIST_STATUSES } from "./command-specs";
import { failureLines, table, time, timeline, type FailureView } from "./format";
import { CliError, EXIT_API_ERROR, request, type HttpResult } from "./http-client";
import { showAdminToken, showConsoleLink, showIdentityKey } from "./credential-commands";
import { formatCluster, type ClusterView } from "./cluster-format";

export interface CliContext {
  adminUrl: string;
  ingressUrl: string;
  /** Sent to admin as `Authorization: Bearer`: CAPSTAN_ADMIN_TOKEN or the local data dir's. */
  adminToken?: string;
  /** The local runtime's data directory (where its admin token and identity key are kept). */
  dataDir: string;
  /** CAPSTAN_IDENTITY_PRIVATE_KEY, when set (else the data dir's key is shown). */
  identityPrivateKeyPem?: string;
  json: boolean;
  out: (s: string) => void;
}

/** A request to the admin API, with the admin token when the CLI has one. */
function admin(ctx: CliContext, method: string, path: string, body?: string): Promise<HttpResult> {
  const auth: Record<string, string> =
    ctx.adminToken === undefined ? {} : { authorization: `Bearer ${ctx.adminToken}` };
  return request(ctx.adminUrl, method, path, body, auth);
}

type Command = (ctx: CliContext, args: ParsedArgs) => Promise<void>;

/** Actions that take only the invocation id (resume takes --deployment; see below). */
const INVOCATION_ACTIONS = ["cancel", "kill", "pause", "purge"] as const;

function need(args: ParsedArgs, index: number, what: string): string {
  const v = args.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

function print(ctx: CliContext, json: unknown, human: () => string): void {
  ctx.out(ctx.json ? JSON.stringify(json, null, 2) : human());
}

const deployments: Command = async (ctx, args) => {
  const sub = need(args, 1, "subcommand: register | list | remove");
  if (sub === "list") {
    const r = (await admin(ctx, "GET", "/deployments")).json as {
      deployments: Array<{
        id: string;
        endpoint: { kind: string; arn?: string; url?: string };
        createdAtMs: number;
        services: Array<{ name: string }>;
      }>;
    };
    print(ctx, r, () =>
      table(
        ["id", "endpoint", "services", "created"],
        r.deployments.map((d) => [
          d.id,
          d.endpoint.arn ?? d.endpoint.url,
          d.services.map((s) => s.name).join(","),
          time(d.createdAtMs),
        ]),
      ),
    );
  } else if (sub === "register") {
    const target = need(args, 2, "deployment: an http(s) URL or a Lambda function name/ARN");
    const body = /^https?:\/\//.test(target) ? { uri: target } : { arn: target };
    const r = (
      await admin(ctx, "POST", "/deployments", JSON.stringify({ ...body, force: args.flags.has("force") }))
    ).json as { id: string; services: Array<{ name: string; kind: string }> };
    print(ctx, r, () => `registered ${r.id}: ${r.services.map((s) => `${s.name} (${s.kind})`).join(", ")}`);
  } else if (sub === "remove") {
    const id = need(args, 2, "deployment id");
    await admin(ctx, "DELETE", `/deployments/${encodeURIComponent(id)}`);
    print(ctx, { removed: id }, () => `removed ${id}`);
  } else throw new UsageError(`unknown deployments subcommand ${sub}`);
};

const services: Command = async (ctx, args) => {
  const sub = need(args, 1, "subcommand: list | describe");
  const r = (await admin(ctx, "GET", "/services")).json as {
    services: Array<{
      name: string;
      kind: string;
      deploymentId: string;
      handlers: Array<{ name: string; kind: string; ingressPrivate?: boolean }>;
    }>;
  };
  // A private handler is marked, so `services list` shows what the ingress will refuse.
  const handlerName = (h: { name: string; ingressPrivate?: boolean }): string =>
    h.ingressPrivate === true ? `${h.name} (private)` : h.name;
  if (sub === "list") {
    print(ctx, r, () =>
      table(
        ["service", "kind", "handlers", "deployment"],
        r.services.map((s) => [s.name, s.kind, s.handlers.map(handlerName).join(","), s.deploymentId]),
      ),
    );
  } else if (sub === "describe") {
    const name = need(args, 2, "service name");
    const s = r.services.find((x) => x.name === name);
    if (!s) throw new CliError(`no service ${name} is registered`, EXIT_API_ERROR);
    print(
      ctx,
      s,
      () =>
        `${s.name} (${s.kind}) on ${s.deploymentId}\n` +
        table(
          ["handler", "kind", "ingress"],
          s.handlers.map((h) => [h.name, h.kind, h.ingressPrivate === true ? "private" : "public"]),
        ),
    );
  } else throw new UsageError(`unknown services subcommand ${sub}`);
};

interface Summary {
  id: string;
  target: { service: string; handler: string; key?: string };
  status: string;
  outcome?: string;
  attempt: number;
  handlerInvocations: number;
  createdAtMs: number;
  scheduledAtMs?: number;
  cancelRequested?: boolean;
  lastFailure?: FailureView;
}

/** `scheduled (starts 2026-…)`, `completed (failed)`, `running`. */
function statusOf(i: Summary): string {
  if (i.scheduledAtMs !== undefined) return `${i.status} (starts ${time(i.scheduledAtMs)})`;
  return i.outcome ? `${i.status} (${i.outcome})` : i.status;
}

const invocations: Command = async (ctx, args) => {
  const sub = need(args, 1, "subcommand: list | logs | describe | cancel | kill | pause | resume | purge");
  if (sub === "list") {
    await listInvocations(ctx, args);
  } else if (sub === "logs") {
    await invocationLogs(ctx, need(args, 2, "invocation id"));
  } else if (sub === "describe") {
    const id = need(args, 2, "invocation id");
    const r = (await admin(ctx, "GET", `/invocations/${encodeURIComponent(id)}`)).json as Summary & {
      journal: Parameters<typeof timeline>[0];
      entryTimes: Parameters<typeof timeline>[1];
      result?: { kind: string; failure?: { code: number; name?: string; message: string } };
      traceId?: string;
    };
    const failure = r.result?.failure;
    print(ctx, r, () =>
      [
        `${r.id}  ${target(r.target)}`,
        `status: ${statusOf(r)}   attempts: ${r.attempt}   handler invocations: ${r.handlerInvocations}`,
        ...(failure
          ? [`failure: ${failure.name ?? "TerminalError"} ${failure.code}: ${failure.message}`]
          : []),
        ...(r.cancelRequested
          ? ["cancel requested: delivered at the handler's next await (kill a handler that fails before one)"]
          : []),
        ...(r.lastFailure && r.status !== "completed" ? failureLines(r.lastFailure, r.status, r.id) : []),
        ...(r.traceId !== undefined ? [`trace id: ${r.traceId}`] : []),
        "",
        timeline(r.journal, r.entryTimes),
      ].join("\n"),
    );
  } else if (sub === "resume") {
    const id = need(args, 2, "invocation id");
    const deployment = flag(args, "deployment");
    const r = (
      await admin(
        ctx,
        "POST",
        `/invocations/${encodeURIComponent(id)}/resume`,
        deployment === undefined ? undefined : JSON.stringify({ deployment }),
      )
    ).json as { invocationId: string; deploymentId: string };
    print(ctx, r, () => `resumed ${id} on deployment ${r.deploymentId}`);
  } else if (sub === "restart-as-new") {
    const id = need(args, 2, "invocation id");
    const r = (await admin(ctx, "POST", `/invocations/${encodeURIComponent(id)}/restart-as-new`)).json as {
      invocationId: string;
      newInvocationId: string;
    };
    print(ctx, r, () => `restarted ${id} as ${r.newInvocationId}`);
  } else if ((INVOCATION_ACTIONS as readonly string[]).includes(sub)) {
    const id = need(args, 2, "invocation id");
    await admin(ctx, "POST", `/invocations/${encodeURIComponent(id)}/${sub}`);
    print(ctx, { id, action: sub }, () => `${sub}: ${id}`);
  } else throw new UsageError(`unknown invocations subcommand ${sub}`);
};

/** Pages of `GET /invocations`: one (with the next page's cursor printed), or with --all every one. */
async function listInvocations(ctx: CliContext, args: ParsedArgs): Promise<void> {
  const q = new URLSearchParams();
  for (const f of ["service", "status", "key", "from", "to", "limit", "cursor"]) {
    const v = flag(args, f);
    if (v !== undefined) q.set(f, v);
  }
  const status = flag(args, "status");
  if (status !== undefined && !(LIST_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status must be one of ${LIST_STATUSES.join(", ")}; got ${status}`);
  }
  const all = args.flags.get("all") === true;
  if (all && q.has("cursor")) throw new UsageError("--all starts at the newest: give --cursor or --all");
  const everything: Summary[] = [];
  for (let first = true; ; first = false) {
    const r = (await admin(ctx, "GET", `/invocations?${q.toString()}`)).json as {
      invocations: Summary[];
      nextCursor?: string;
    };
    if (ctx.json && all) everything.push(...r.invocations);
    else if (ctx.json) ctx.out(JSON.stringify(r, null, 2));
    else if (r.invocations.length > 0 || first) {
      const rows = r.invocations.map((i) => [
        i.id,
        target(i.target),
        statusOf(i),
        i.attempt,
        time(i.createdAtMs),
      ]);
      const text = table(["id", "target", "status", "attempts", "created"], rows);
      // Later pages continue the first one's table (widths may differ slightly).
      ctx.out(first ? text : text.split("\n").slice(2).join("\n"));
    }
    if (r.nextCursor === undefined) break;
    if (!all) {
      if (!ctx.json) ctx.out(`more: add --cursor ${r.nextCursor} (or --all)`);
      break;
    }
    q.set("cursor", r.nextCursor);
  }
  if (ctx.json && all) ctx.out(JSON.stringify({ invocations: everything }, null, 2));
}

/** Every page of `GET /invocations/:id/logs`, or where the logs are when the runtime has none. */
async function invocationLogs(ctx: CliContext, id: string): Promise<void> {
  const lines: Array<{ seq: number; atMs: number; attempt: number; stream: string; text: string }> = [];
  let dropped = 0;
  for (let after = 0; ;) {
    const r = (await admin(ctx, "GET", `/invocations/${encodeURIComponent(id)}/logs?after=${after}`)).json as
      | { source: "local"; lines: typeof lines; dropped: number; nextAfter?: number }
      | { source: "elsewhere"; where: string; logGroup?: string };
    if (r.source === "elsewhere") {
      print(ctx, r, () => r.where);
      return;
    }
    lines.push(...r.lines);
    dropped = r.dropped;
    if (r.nextAfter === undefined) break;
    after = r.nextAfter;
  }
  print(ctx, { invocationId: id, source: "local", lines, dropped }, () =>
    [
      ...(dropped > 0 ? [`(${dropped} older lines dropped by the local endpoint's bounds)`] : []),
      ...(lines.length === 0 ? ["(nothing printed yet)"] : []),
      ...lines.map((l) => `#${l.attempt}  ${time(l.atMs)}  ${l.stream.padEnd(6)}  ${l.text}`),
    ].join("\n"),
  );
}

const state: Command = async (ctx, args) => {
  const sub = need(args, 1, "subcommand: get | set");
  const service = need(args, 2, "object name");
  const key = need(args, 3, "key");
  const path = `/state/${encodeURIComponent(service)}/${encodeURIComponent(key)}`;
  if (sub === "get") {
    const r = (await admin(ctx, "GET", path)).json as { state: Record<string, unknown> };
    print(ctx, r, () =>
      table(
        ["key", "value"],
        Object.entries(r.state).map(([k, v]) => [k, JSON.stringify(v)]),
      ),
    );
  } else if (sub === "set") {
    const stateKey = need(args, 4, "state key");
    const raw = need(args, 5, "JSON value");
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new UsageError(`value is not JSON: ${raw}`);
    }
    await admin(ctx, "PATCH", path, JSON.stringify({ set: { [stateKey]: value } }));
    print(ctx, { service, key, set: { [stateKey]: value } }, () => `set ${service}/${key} ${stateKey}`);
  } else throw new UsageError(`unknown state subcommand ${sub}`);
};

const sql: Command = async (ctx, args) => {
  const query = need(args, 1, "query");
  const r = (await admin(ctx, "POST", "/query", JSON.stringify({ query }))).json as {
    columns: string[];
    rows: unknown[][];
    truncated: boolean;
  };
  print(
    ctx,
    r,
    () =>
      table(
        r.columns,
        r.rows.map((row) =>
          row.map((c) => (c === null ? "" : typeof c === "string" ? c : JSON.stringify(c))),
        ),
      ) + (r.truncated ? "\n(truncated)" : ""),
  );
};

/** The ingress's answer to a one-way send (Restate's shape). */
interface SendResponse {
  invocationId: string;
  status: "Accepted" | "PreviouslyAccepted";
  executionTime?: string;
}

/** `accepted <id>`, or says that the idempotency key mapped the send to an earlier invocation. */
function sendOutcome(r: SendResponse, idempotencyKey: string | undefined): string {
  if (r.status === "PreviouslyAccepted") {
    return (
      `deduplicated: idempotency key ${JSON.stringify(idempotencyKey ?? "")} already started ` +
      `${r.invocationId}; no new invocation`
    );
  }
  return `accepted ${r.invocationId}${r.executionTime !== undefined ? `, starts at ${r.executionTime}` : ""}`;
}

/** `call|send <svc>/<handler> | <obj>/<key>/<handler> [json]` through the ingress. */
function invoke(send: boolean): Command {
  return async (ctx, args) => {
    const path = need(args, 1, "target: <service>/<handler> or <object>/<key>/<handler>");
    const parts = path.split("/").filter((s) => s.length > 0);
    if (parts.length < 2 || parts.length > 3)
      throw new UsageError(`target must be <service>/<handler> or <object>/<key>/<handler>, got ${path}`);
    const body = args.positionals[2] ?? "null";
    try {
      JSON.parse(body);
    } catch {
      throw new UsageError(`input is not JSON: ${body}`);
    }
    const headers: Record<string, string> = {};
    const idem = flag(args, "idempotency-key");
    if (idem !== undefined) headers["idempotency-key"] = idem;
    // The parser refuses --delay on call: only send declares it.
    const delay = flag(args, "delay");
    const query = delay !== undefined ? `?delay=${encodeURIComponent(delay)}` : "";
    const url = `/${parts.map(encodeURIComponent).join("/")}${send ? "/send" : ""}${query}`;
    const r = await request(ctx.ingressUrl, "POST", url, body, headers);
    print(ctx, r.json ?? r.text, () => (send ? sendOutcome(r.json as SendResponse, idem) : r.text));
  };
}

const health: Command = async (ctx) => {
  const r = (await admin(ctx, "GET", "/health")).json as {
    status: string;
    partitions: number;
    version: string;
  };
  // The ingress is checked too: its URL is the CLI's setting, which the admin API cannot confirm.
  const ingress = await request(ctx.ingressUrl, "GET", "/restate/health").then(
    () => "ok",
    () => "not reachable: set --ingress-url or CAPSTAN_INGRESS_URL",
  );
  // 503 is an answer here, not a failure: it carries why the runtime is not ready.
  const readiness = (await request(ctx.adminUrl, "GET", "/health/ready").then(
    (res) => res.json,
    (e: unknown) => (e instanceof CliError ? e.body : undefined),
  )) as { ready: boolean; reason?: string } | undefined;
  const ready = readiness?.ready ? "ready" : `not ready: ${readiness?.reason ?? "unknown"}`;
  print(
    ctx,
    { ...r, readiness, ingress: { url: ctx.ingressUrl, status: ingress } },
    () =>
      `${r.status}, ${ready} — ${r.partitions} partitions, runtime ${r.version}, admin ${ctx.adminUrl}, ingress ${ctx.ingressUrl} (${ingress})`,
  );
};

function target(t: Summary["target"]): string {
  return t.key !== undefined ? `${t.service}/${t.key}/${t.handler}` : `${t.service}/${t.handler}`;
}

/** `capstan cluster`: the nodes and which leads each partition (GET /cluster). */
const cluster: Command = async (ctx) => {
  let r: HttpResult;
  try {
    r = await admin(ctx, "GET", "/cluster");
  } catch (e) {
    if (e instanceof CliError && (e.body as { code?: string } | undefined)?.code === "ADMIN_NOT_FOUND") {
      throw new CliError(`${ctx.adminUrl} has no GET /cluster: it runs an older runtime`, EXIT_API_ERROR);
    }
    throw e;
  }
  const view = r.json as ClusterView;
  if (!Array.isArray(view?.nodes) || !Array.isArray(view?.partitions)) {
    throw new CliError(`unexpected answer from GET /cluster: ${r.text.slice(0, 200)}`, EXIT_API_ERROR);
  }
  print(ctx, view, () => formatCluster(view).join("\n"));
};

export const COMMANDS: Record<string, Command> = {
  cluster,
  deployments,
  services,
  invocations,
  state,
  sql,
  call: invoke(false),
  send: invoke(true),
  health,
  "admin-token": showAdminToken,
  console: showConsoleLink,
  "identity-key": showIdentityKey,
};
