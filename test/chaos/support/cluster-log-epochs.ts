/**
 * "No append with a stale epoch ever succeeded", judged from the log itself in DynamoDB. Every log
 * item carries the epoch of the claim it was appended under. A leader appends `recover` at the start
 * of its epoch, so along a partition's log (by LSN) the items' epochs never go down — an item at a
 * lower epoch after a higher one is a stale leader's write that got through — no item is above the
 * fence's epoch, and each `recover` record sits in an item of its own epoch.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { decodeLogItem } from "../../../runtime/src/storage/dynamodb-log-items";
import { fenceKey, logKey, queryAll } from "../../../runtime/src/storage/dynamodb-table";
import type { CheckResult } from "./oracle";

export async function checkLogEpochs(
  client: DynamoDBClient,
  table: string,
  partitions: number,
): Promise<CheckResult> {
  const violations: string[] = [];
  let verified = 0;
  for (let p = 0; p < partitions; p++) {
    let fenceEpoch = 0;
    for await (const item of queryAll(client, table, fenceKey(p))) fenceEpoch = Number(item.epoch?.N ?? 0);
    let previous: { lsn: number; epoch: number } | undefined;
    for await (const item of queryAll(client, table, logKey(p))) {
      const lsn = Number(item.sk?.N);
      const epoch = Number(item.epoch?.N ?? 0);
      verified++;
      if (previous !== undefined && epoch < previous.epoch) {
        violations.push(
          `partition ${p}: item at lsn ${lsn} has epoch ${epoch} after lsn ${previous.lsn} at epoch ${previous.epoch}`,
        );
      }
      if (epoch > fenceEpoch) {
        violations.push(
          `partition ${p}: item at lsn ${lsn} has epoch ${epoch} above the fence's ${fenceEpoch}`,
        );
      }
      const records = decodeLogItem(item.fmt?.S ?? "json", item.d?.B ?? new Uint8Array());
      for (const record of records as Array<{ kind?: string; epoch?: number }>) {
        if (record.kind === "recover" && record.epoch !== epoch) {
          violations.push(
            `partition ${p}: recover for epoch ${record.epoch} appended in an item at epoch ${epoch} (lsn ${lsn})`,
          );
        }
      }
      previous = { lsn, epoch };
    }
  }
  return { name: "one writer per partition: no append with a stale epoch", verified, violations };
}
