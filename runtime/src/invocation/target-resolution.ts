/**
 * Resolves a target against the registry for a new invocation — from the ingress or from a handler's
 * call/send — and stamps the settings the state machine needs (it cannot read the registry).
 */
import type { Failure, Target } from "@capstan/sdk/protocol";
import type { InvocationRequest, NewInvocation } from "../core/state";
import type { DeploymentRegistry, ResolvedHandler } from "../registry/deployment-registry";
import { isRuntimeError, RuntimeError } from "../runtime-error";
import { resolveInvocationSettings } from "./invocation-settings";

/**
 * The handler a target names, against the shared registry as the store holds it: a service another
 * node registered moments ago resolves (the registry reloads on a miss before answering "unknown").
 * A RuntimeError for an unknown one (`INGRESS_SERVICE_NOT_FOUND`, `INGRESS_HANDLER_NOT_FOUND`) or a
 * key where none fits, or none where one must.
 */
export async function resolveTargetCurrent(
  registry: DeploymentRegistry,
  target: Target,
): Promise<ResolvedHandler> {
  return checkKey(await registry.resolveCurrent(target.service, target.handler), target);
}

function checkKey(resolved: ResolvedHandler, target: Target): ResolvedHandler {
  const keyed = resolved.service.kind !== "service";
  if (keyed && target.key === undefined) {
    throw new RuntimeError(
      "INGRESS_KEY_REQUIRED",
      `${resolved.service.kind} ${target.service} needs a key: POST /${target.service}/{key}/${target.handler}`,
    );
  }
  if (!keyed && target.key !== undefined) {
    throw new RuntimeError(
      "INGRESS_KEY_NOT_ALLOWED",
      `service ${target.service} takes no key: POST /${target.service}/${target.handler}`,
    );
  }
  return resolved;
}

/** A requested invocation completed with its registry settings. */
export function toNewInvocation(
  resolved: ResolvedHandler,
  request: InvocationRequest,
  completedRetentionMs: number,
): NewInvocation {
  return { ...request, ...resolveInvocationSettings(resolved, request, completedRetentionMs) };
}

/**
 * For a handler's call or send: the new invocation, or the failure its caller's entry gets. Against
 * the shared registry as the store holds it, like the ingress (a service just registered on another
 * node resolves).
 */
export async function resolveChildInvocation(
  registry: DeploymentRegistry,
  request: InvocationRequest,
  completedRetentionMs: number,
): Promise<NewInvocation | { failure: Failure }> {
  try {
    return toNewInvocation(
      await resolveTargetCurrent(registry, request.target),
      request,
      completedRetentionMs,
    );
  } catch (e) {
    // The calling handler sees the failure with an HTTP-like code, as a caller through the ingress would.
    if (isRuntimeError(e)) return { failure: { code: failureCodeOf(e.code), message: e.message } };
    throw e;
  }
}

/** An unknown service or handler is a 404 to the caller, a key that does not fit a 400. */
function failureCodeOf(code: string): number {
  return code.endsWith("_NOT_FOUND") ? 404 : 400;
}
