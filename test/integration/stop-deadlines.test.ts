/**
 * The stop deadlines of the runtime and of its AWS deployment agree: ECS's stop timeout leaves a
 * stopping node time to drain its ingress, then hand over (docs/operations.md#stopping-a-node).
 */
import * as limits from "../../infra/src/runtime/runtime-limits";
import { DRAIN_FLUSH_MS, INGRESS_DRAIN_MS, PEER_DRAIN_MS } from "../../runtime/src/server/request-drain";

/** What the leave itself may take beside the drains: in-flight appends, snapshots to S3, releases. */
const HAND_OVER_ALLOWANCE_MS = 15_000;

test("the drains and the hand-over fit in the stop timeout's margin beside the longest lease", () => {
  // Budgets summed from the constants, not measured times.
  const drainBudgetMs = INGRESS_DRAIN_MS + DRAIN_FLUSH_MS + PEER_DRAIN_MS + DRAIN_FLUSH_MS;
  expect(drainBudgetMs + HAND_OVER_ALLOWANCE_MS).toBeLessThanOrEqual(limits.HANDOVER_MARGIN_SECONDS * 1000);
  expect(limits.MAX_LEASE_MS + limits.HANDOVER_MARGIN_SECONDS * 1000).toBeLessThanOrEqual(
    limits.STOP_TIMEOUT_SECONDS * 1000,
  );
});
