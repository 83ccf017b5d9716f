/**
 * Runs a read-only SQL query in a child process. SQLite runs a statement to its end inside one native
 * call, which neither the event loop nor a worker thread's termination can interrupt: on the main
 * thread a runaway query (a recursive CTE without end) froze ingress, admin and every invocation.
 * A child process can be killed: the time limit is the parent's timer.
 *
 * What the main thread pays per query is bounded too: a query beyond MAX_CONCURRENT_QUERIES is
 * refused before anything else happens; the tables it names are streamed to the child in chunks of
 * QUERY_ROWS_PER_CHUNK rows with a turn of the event loop between chunks (never one whole data set
 * in memory, never one long task); the child answers the result as JSON text within
 * MAX_QUERY_RESULT_BYTES, which the admin server forwards without parsing it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { setImmediate as nextTurn } from "node:timers/promises";
import { threadScript } from "../threads/thread-script";
import { ApiError } from "./api-error";
import { MAX_CONCURRENT_QUERIES, QUERY_ROWS_PER_CHUNK } from "./limits";
import { DEFAULT_QUERY_LIMITS, referencedTables, type QueryLimits, type QuerySources } from "./sql-query";
import type { SqlTable, SqlViews, ViewChunk } from "./sql-schema";

/** Starting the query's process (node boot, loading SQLite) is not counted in the query's time. */
const QUERY_PROCESS_START_MS = 5_000;

/**
 * The rows of the tables a query names, produced lazily: the runtime reads its state chunk by chunk
 * while they are streamed. A query that names no table never calls it.
 */
export type ViewSource = (tables: ReadonlySet<SqlTable>) => Iterable<ViewChunk> | AsyncIterable<ViewChunk>;

/** Messages to the query's process, in this order: one `start`, any `rows`, one `end`. */
export type QueryMessage =
  | { kind: "start"; sql: string; limits: Omit<QueryLimits, "nowMs">; sources: QuerySources }
  | { kind: "rows"; chunk: ViewChunk }
  | { kind: "end" };

/** The answer of the query's process: the result as JSON text, or the refusal. It may come early. */
export type QueryReply =
  { ok: true; json: string } | { ok: false; status: number; code: string; message: string };

/** From the query's process: `ready` once the statement passed its checks (rows may come), then the reply. */
export type QueryChildMessage = { kind: "ready" } | { kind: "reply"; reply: QueryReply };

let running = 0;

/**
 * Views already in memory, as a source (tests, tools).
 *
 * @example runQueryInProcess("SELECT 1", viewsSource({ invocations: [], journal: [], state: [] }))
 */
export function viewsSource(views: SqlViews): ViewSource {
  return function* (tables) {
    for (const table of tables) {
      const rows = views[table];
      for (let i = 0; i < rows.length; i += QUERY_ROWS_PER_CHUNK) {
        yield { table, rows: rows.slice(i, i + QUERY_ROWS_PER_CHUNK) };
      }
    }
  };
}

/**
 * The query in its own process, killed after `limits.maxMs` (plus its start-up). Resolves with the
 * QueryResult's JSON text.
 *
 * @throws ApiError 429 ADMIN_QUERY_BUSY beyond MAX_CONCURRENT_QUERIES at once (before `source` is
 *   called), the refusals of QueryDatabase, 400 ADMIN_QUERY_TIMEOUT, 400 ADMIN_QUERY_ABORTED when
 *   the process ended without an answer (e.g. out of memory).
 * @example
 * const json = await runQueryInProcess("SELECT count(*) FROM invocations", source);
 * // → '{"columns":["count(*)"],"rows":[[3]],"truncated":false}'
 */
export async function runQueryInProcess(
  sql: string,
  source: ViewSource,
  limits: QueryLimits = DEFAULT_QUERY_LIMITS,
  sources: QuerySources = {},
): Promise<string> {
  if (running >= MAX_CONCURRENT_QUERIES)
    throw new ApiError(429, "ADMIN_QUERY_BUSY", `at most ${MAX_CONCURRENT_QUERIES} queries run at once`);
  running += 1;
  try {
    const { nowMs: _clock, ...childLimits } = limits;
    return await runChild(sql, childLimits, source, sources);
  } finally {
    running -= 1;
  }
}

function runChild(
  sql: string,
  limits: Omit<QueryLimits, "nowMs">,
  source: ViewSource,
  sources: QuerySources,
): Promise<string> {
  const script = threadScript(__dirname, "sql-query-entry", ["better-sqlite3"]);
  const child = spawn(process.execPath, script.eval ? ["-e", script.filename] : [script.filename], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    serialization: "advanced",
  });
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(startTimer);
      clearTimeout(queryTimer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      outcome();
    };
    const timeout = (): void =>
      settle(() =>
        reject(new ApiError(400, "ADMIN_QUERY_TIMEOUT", `query ran longer than ${limits.maxMs} ms`)),
      );
    let queryTimer: NodeJS.Timeout | undefined;
    // The query's clock starts once the child is up (the start message is delivered when it is).
    const startTimer = setTimeout(timeout, QUERY_PROCESS_START_MS);
    child.once("spawn", () => {
      send(child, { kind: "start", sql, limits, sources })
        .then(() => {
          clearTimeout(startTimer);
          if (!settled) queryTimer = setTimeout(timeout, limits.maxMs);
        })
        // It can only fail because the child is gone: its `close` answers.
        .catch(() => undefined);
    });
    child.on("message", (message: QueryChildMessage) => {
      if (message.kind === "ready") {
        // Only a statement that passed its checks costs the runtime a read of its tables.
        // A failed send means the child is gone (its `close` answers); a failing source is a bug.
        stream(child, sql, source, () => settled).catch((e: unknown) => {
          if (!(e instanceof ChildGone)) settle(() => reject(e instanceof Error ? e : new Error(String(e))));
        });
        return;
      }
      const { reply } = message;
      settle(() =>
        reply.ok ? resolve(reply.json) : reject(new ApiError(reply.status, reply.code, reply.message)),
      );
    });
    child.once("error", (e) => settle(() => reject(e)));
    // `close`, not `exit`: it comes after the IPC channel has delivered everything the child sent, so
    // a child that answered and exited is never mistaken for one that died without an answer.
    child.once("close", (code, signal) =>
      settle(() =>
        reject(
          new ApiError(
            400,
            "ADMIN_QUERY_ABORTED",
            `the query's process ended (${signal ?? `exit ${code}`}) without an answer`,
          ),
        ),
      ),
    );
  });
}

/** Streams the named tables, a chunk per turn, until done or the query is settled (answered early). */
async function stream(child: ChildProcess, sql: string, source: ViewSource, settled: () => boolean) {
  const tables = referencedTables(sql);
  if (tables.size > 0) {
    for await (const chunk of source(tables)) {
      if (settled()) return;
      await send(child, { kind: "rows", chunk });
      await nextTurn();
    }
  }
  if (!settled()) await send(child, { kind: "end" });
}

/** The query's process went away while it was sent something. */
class ChildGone extends Error {
  override readonly name = "ChildGone";
}

function send(child: ChildProcess, message: QueryMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!child.connected) return reject(new ChildGone("query process disconnected"));
    child.send(message, (e) => (e ? reject(new ChildGone(e.message, { cause: e })) : resolve()));
  });
}
