/**
 * What the registration custom resource does, free of Lambda and CloudFormation plumbing.
 *
 * - Create/Update: register the function's new version (forced when it is registered already and
 *   no longer serves: a CloudFormation rollback to it), then prune: every other version of the same
 *   function that serves no service and has no unfinished invocation pinned to it is unregistered
 *   and its Lambda version deleted. Versions still pinned stay until a later deploy finds them
 *   drained, so a deploy never waits on invocations that may sleep for days.
 * - Delete (the old version after an Update, or the function leaving the stack): unregister and
 *   delete the version if drained, else leave it for the next prune. Never fails a teardown.
 */
import type { AdminApi, LambdaDeployment } from "./admin-client";
import { parseVersionArn } from "./version-arn";

export interface RegistrationDeps {
  admin: AdminApi;
  /** Deletes a published Lambda version (ignoring one already gone). */
  deleteVersion(versionArn: string): Promise<void>;
  log(message: string): void;
}

export interface PruneResult {
  /** Version ARNs unregistered and deleted. */
  pruned: string[];
  /** Version ARNs kept because unfinished invocations are pinned to them. */
  pinned: string[];
}

/**
 * @example
 * const { id } = await registerVersion(arn, deps); // the runtime now sends new invocations to `arn`
 */
export async function registerVersion(versionArn: string, deps: RegistrationDeps): Promise<LambdaDeployment> {
  const deployment = await deps.admin.register(versionArn, false);
  if ((await deps.admin.servingDeploymentIds()).has(deployment.id)) return deployment;
  deps.log(
    `${versionArn} was registered before and serves nothing now: re-registering with force (rollback)`,
  );
  return deps.admin.register(versionArn, true);
}

/** Unregisters one version if nothing is pinned to it and it serves nothing new; true if it went. */
async function retireIfDrained(
  deployment: LambdaDeployment,
  serving: Set<string>,
  deps: RegistrationDeps,
  allowServing: boolean,
): Promise<boolean> {
  if (serving.has(deployment.id) && !allowServing) return false;
  const pinned = await deps.admin.pinnedInvocations(deployment.id);
  if (pinned > 0) {
    deps.log(`${deployment.arn}: ${pinned} unfinished invocation(s) pinned; kept until they finish`);
    return false;
  }
  await deps.admin.remove(deployment.id);
  await deps.deleteVersion(deployment.arn);
  deps.log(`${deployment.arn}: drained, unregistered and deleted`);
  return true;
}

/**
 * @example
 * const { pruned, pinned } = await pruneSuperseded(currentArn, deps);
 */
export async function pruneSuperseded(
  currentVersionArn: string,
  deps: RegistrationDeps,
): Promise<PruneResult> {
  const current = parseVersionArn(currentVersionArn);
  if (current === undefined) return { pruned: [], pinned: [] };
  const serving = await deps.admin.servingDeploymentIds();
  const result: PruneResult = { pruned: [], pinned: [] };
  for (const d of await deps.admin.lambdaDeployments()) {
    if (d.arn === currentVersionArn || parseVersionArn(d.arn)?.functionArn !== current.functionArn) continue;
    if (serving.has(d.id)) continue; // e.g. a version forced back by hand: the operator's choice
    const retired = await retireIfDrained(d, serving, deps, false);
    (retired ? result.pruned : result.pinned).push(d.arn);
  }
  return result;
}

/**
 * The Delete of one version. Anything that stops it (the runtime unreachable, an admin error) is
 * logged and the Delete completes: a stack must always be removable.
 *
 * @example
 * await retireVersion(oldArn, deps);
 */
export async function retireVersion(versionArn: string, deps: RegistrationDeps): Promise<void> {
  try {
    const deployment = (await deps.admin.lambdaDeployments()).find((d) => d.arn === versionArn);
    if (deployment === undefined) return;
    const serving = await deps.admin.servingDeploymentIds();
    await retireIfDrained(deployment, serving, deps, true);
  } catch (e) {
    // Whatever failed (admin, Lambda), the version stays registered and retained: nothing is lost,
    // and the next deploy's prune or `capstan deployments remove` finishes the job.
    deps.log(`${versionArn}: not retired (${(e as Error).message}); the next deploy prunes it once drained`);
  }
}
