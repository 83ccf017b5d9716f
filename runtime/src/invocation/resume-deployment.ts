/**
 * Where `resume --deployment` moves an invocation: "latest" is the deployment that serves the
 * invocation's service now (what a fix registers), anything else a deployment id. Checked before the
 * `resume` record is appended (the state machine cannot read the registry): the deployment must
 * serve the same service, with the same kind, and the invocation's handler, with the same kind —
 * otherwise replaying the journal there could not even start.
 */
import type { Invocation } from "../core/state";
import type { DeploymentRegistry } from "../registry/deployment-registry";
import { RuntimeError } from "../runtime-error";

/** `--deployment latest`: the service's current deployment. */
export const LATEST_DEPLOYMENT = "latest";

/**
 * The id of the deployment `requested` names, checked against the invocation's target.
 *
 * @example
 * resumeDeployment(registry, inv, "latest"); // "dp_7": the one registered with the fix
 * resumeDeployment(registry, inv, "dp_1");   // ApiError 409 ADMIN_DEPLOYMENT_INCOMPATIBLE if dp_1 lacks the handler
 */
export function resumeDeployment(registry: DeploymentRegistry, inv: Invocation, requested: string): string {
  const { service, handler } = inv.target;
  if (requested === LATEST_DEPLOYMENT) {
    const current = registry.listServices().find((s) => s.name === service);
    if (current === undefined) {
      throw new RuntimeError("ADMIN_SERVICE_NOT_FOUND", `service ${service} is not registered`);
    }
    requested = current.deploymentId;
  }
  const deployment = registry.get(requested);
  if (deployment === undefined) {
    throw new RuntimeError("ADMIN_DEPLOYMENT_NOT_FOUND", `no deployment ${JSON.stringify(requested)}`);
  }
  const svc = deployment.services.find((s) => s.name === service);
  const h = svc?.handlers.find((x) => x.name === handler);
  if (svc === undefined || svc.kind !== inv.serviceKind || h === undefined || h.kind !== inv.handlerKind) {
    throw new RuntimeError(
      "ADMIN_DEPLOYMENT_INCOMPATIBLE",
      `deployment ${deployment.id} does not serve ${inv.serviceKind} ${service} with ` +
        `${inv.handlerKind} handler ${handler}; the invocation stays on ${inv.deploymentId}`,
    );
  }
  return deployment.id;
}
