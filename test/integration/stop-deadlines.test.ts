/**
 * The stop deadlines of the runtime and of its AWS deployment agree: ECS's stop timeout leaves a
 * stopping node time to drain its ingress, then hand over (docs/operations.md#stopping-a-node).
 */
import * as limits from "../../infra/src/runtime/runtime-limits";
import { DRAIN_FLUSH_MS, INGRESS_DRAIN_MS } from "../../runtime/src/server/request-drain";

test("the drain fits in the stop timeout's margin beside the longest lease, with room to leave", () => {
  const drainMs = INGRESS_DRAIN_MS + DRAIN_FLUSH_MS;
  // At least twice the drain is left for in-flight appends, snapshots and the leave.
  expect(2 * drainMs).toBeLessThanOrEqual(limits.HANDOVER_MARGIN_SECONDS * 1000 - drainMs);
  expect(limits.MAX_LEASE_MS + limits.HANDOVER_MARGIN_SECONDS * 1000).toBeLessThanOrEqual(
    limits.STOP_TIMEOUT_SECONDS * 1000,
  );
});
