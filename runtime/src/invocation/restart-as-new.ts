/**
 * `restart-as-new`: a completed invocation's target, input and headers as a new request — Restate's
 * way to run a finished invocation again (after a fix, or to repeat it) without the client resending
 * its input. The new invocation has its own id and no idempotency key (the old key would map it back
 * to the completed one); a workflow's `run` is refused because it runs once per workflow id.
 */
import type { Invocation } from "../core/state";
import { RuntimeError } from "../runtime-error";
import type { SubmitRequest } from "../server/runtime-api";

/**
 * @example
 * await runtime.submit(restartRequest(completed)); // → { invocationId: "inv_3_…", existing: false }
 */
export function restartRequest(inv: Invocation): SubmitRequest {
  if (inv.status !== "completed") {
    throw new RuntimeError(
      "INVOCATION_NOT_COMPLETED",
      `invocation ${inv.id} is ${inv.status}: restart-as-new takes a completed invocation ` +
        "(resume a paused or backing-off one, or cancel it first)",
    );
  }
  if (inv.handlerKind === "workflow") {
    throw new RuntimeError(
      "ADMIN_RESTART_WORKFLOW_RUN",
      `invocation ${inv.id} is the run of workflow ${inv.target.service}/${inv.target.key ?? ""}, which ` +
        "runs once per workflow id: start the workflow under a new id",
    );
  }
  const input = inv.journal[0];
  if (input?.kind !== "input") throw new Error(`invocation ${inv.id} has no input entry`);
  return { target: inv.target, input: input.value, headers: inv.headers };
}
