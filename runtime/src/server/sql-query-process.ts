/**
 * Runs a read-only SQL query in a child process. SQLite runs a statement to its end inside one native
 * call, which neither the event loop nor a worker thread's termination can interrupt: on the main
 * thread a runaway query (a recursive CTE without end) froze ingress, admin and every invocation.
 * A child process can be killed: the time limit is the parent's timer.
 */
import { spawn } from "node:child_process";
import { threadScript } from "../threads/thread-script";
import { ApiError } from "./api-error";
import { MAX_CONCURRENT_QUERIES } from "./limits";
import type { QueryResult } from "./runtime-api";
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from "./sql-query";
import type { SqlViews } from "./sql-schema";

/** Starting the query's process (node boot, loading SQLite) is not counted in the query's time. */
const QUERY_PROCESS_START_MS = 5_000;

export interface QueryJob {
  sql: string;
  views: SqlViews;
  limits: QueryLimits;
}

export type QueryReply =
  { ok: true; result: QueryResult } | { ok: false; status: number; code: string; message: string };

let running = 0;

/**
 * `runReadOnlyQuery` in its own process, killed after `limits.maxMs` (plus its start-up).
 *
 * @throws ApiError as runReadOnlyQuery, 400 ADMIN_QUERY_TIMEOUT, 429 ADMIN_QUERY_BUSY beyond
 *   MAX_CONCURRENT_QUERIES at once.
 */
export async function runQueryInProcess(
  sql: string,
  views: SqlViews,
  limits: QueryLimits = DEFAULT_QUERY_LIMITS,
): Promise<QueryResult> {
  if (running >= MAX_CONCURRENT_QUERIES)
    throw new ApiError(429, "ADMIN_QUERY_BUSY", `at most ${MAX_CONCURRENT_QUERIES} queries run at once`);
  running += 1;
  try {
    return await runChild({ sql, views, limits: { maxRows: limits.maxRows, maxMs: limits.maxMs } });
  } finally {
    running -= 1;
  }
}

function runChild(job: QueryJob): Promise<QueryResult> {
  const script = threadScript(__dirname, "sql-query-entry", ["better-sqlite3"]);
  const child = spawn(process.execPath, script.eval ? ["-e", script.filename] : [script.filename], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    serialization: "advanced",
  });
  return new Promise<QueryResult>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(startTimer);
      clearTimeout(queryTimer);
      outcome();
    };
    const timeout = (): void =>
      settle(() => {
        child.kill("SIGKILL");
        reject(new ApiError(400, "ADMIN_QUERY_TIMEOUT", `query ran longer than ${job.limits.maxMs} ms`));
      });
    let queryTimer: NodeJS.Timeout | undefined;
    // The query's clock starts once the child is up (the job is delivered when it is).
    const startTimer = setTimeout(timeout, QUERY_PROCESS_START_MS);
    child.once("spawn", () => {
      child.send(job, () => {
        clearTimeout(startTimer);
        queryTimer = setTimeout(timeout, job.limits.maxMs);
      });
    });
    child.once("message", (reply: QueryReply) =>
      settle(() =>
        reply.ok ? resolve(reply.result) : reject(new ApiError(reply.status, reply.code, reply.message)),
      ),
    );
    child.once("error", (e) => settle(() => reject(e)));
    child.once("exit", (code, signal) =>
      settle(() =>
        reject(new Error(`the query process ended (${signal ?? `exit ${code}`}) without an answer`)),
      ),
    );
  });
}
