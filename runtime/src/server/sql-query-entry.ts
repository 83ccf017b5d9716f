/**
 * Entry of the process one SQL query runs in (sql-query-process.ts): receives the query and the
 * views, answers with the result or the refusal, and exits.
 */
import { isApiError } from "./api-error";
import type { QueryJob, QueryReply } from "./sql-query-process";
import { runReadOnlyQuery } from "./sql-query";

process.once("message", (job: QueryJob) => {
  let reply: QueryReply;
  try {
    reply = { ok: true, result: runReadOnlyQuery(job.sql, job.views, job.limits) };
  } catch (e) {
    reply = isApiError(e)
      ? { ok: false, status: e.status, code: e.code, message: e.message }
      : { ok: false, status: 500, code: "INTERNAL", message: String((e as Error)?.message ?? e) };
  }
  process.send?.(reply, () => process.disconnect());
});
