/**
 * Appends one of the runtime's own records (a timer firing, an attempt's outcome, an outbox
 * confirmation), retrying with backoff when the partition cannot take it right now. Such a record must
 * not be lost to a passing failure: a lost timer firing or attempt outcome would leave an invocation
 * waiting until the next restart (whose `recover` record re-derives them).
 */
import type { Log } from "../log";
import type { Effect } from "../core/effects";
import type { RecordInput } from "./partition-processor";
import type { PartitionRouter } from "./partition-router";

export const INTERNAL_APPEND_ATTEMPTS = 10;
const INITIAL_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 5_000;

export async function appendInternal(
  router: PartitionRouter,
  partition: number,
  record: RecordInput,
  log: Log,
): Promise<Effect[] | undefined> {
  let backoff = INITIAL_BACKOFF_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await router.append(partition, record, "internal");
    } catch (e) {
      if (router.health(partition).state !== "leading" || attempt >= INTERNAL_APPEND_ATTEMPTS) {
        log(
          `could not record ${record.kind} in partition ${partition} (${String(e)}); the next start recovers it`,
          "error",
        );
        return undefined;
      }
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}
