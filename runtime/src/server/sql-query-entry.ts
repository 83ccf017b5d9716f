/**
 * Entry of the process one SQL query runs in (sql-query-process.ts): checks the statement against the
 * empty tables, loads the rows streamed to it, runs the query, answers with the result's JSON text
 * or the refusal — as soon as it has one, even before the rows are all in — and exits.
 */
import { isApiError } from "./api-error";
import type { QueryChildMessage, QueryMessage, QueryReply } from "./sql-query-process";
import { QueryDatabase } from "./sql-query";

let db: QueryDatabase | undefined;
let answered = false;

function answer(reply: QueryReply): void {
  if (answered) return;
  answered = true;
  db?.close();
  const message: QueryChildMessage = { kind: "reply", reply };
  process.send?.(message, () => process.disconnect());
}

function refusal(e: unknown): QueryReply {
  return isApiError(e)
    ? { ok: false, status: e.status, code: e.code, message: e.message }
    : { ok: false, status: 500, code: "INTERNAL", message: String((e as Error)?.message ?? e) };
}

process.on("message", (message: QueryMessage) => {
  if (answered) return;
  try {
    switch (message.kind) {
      case "start":
        db = new QueryDatabase(message.sql, message.limits, message.sources);
        process.send?.({ kind: "ready" } satisfies QueryChildMessage);
        return;
      case "rows":
        db!.load(message.chunk.table, message.chunk.rows);
        return;
      case "end":
        answer({ ok: true, json: db!.run() });
        return;
    }
  } catch (e) {
    answer(refusal(e));
  }
});
