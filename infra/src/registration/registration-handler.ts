/**
 * The registration custom resource's Lambdas (one bundle, two entry points), driven by the CDK
 * provider framework. `onEvent` only validates and names the resource; `isComplete` does the work,
 * one bounded attempt per call, and answers "not yet" when the runtime cannot take it yet (still
 * starting, the new version's invoke permission still propagating). The framework calls it again
 * every query interval until the total timeout: no handler ever sleeps.
 *
 * Environment: ADMIN_URL and ADMIN_TOKEN_SECRET_ARN (set by the Registrar).
 * Resource properties: VersionArn, the published version to register.
 */
import { AdminRequestError, httpAdminApi } from "./admin-client";
import { lambdaVersionDeleter } from "./lambda-versions";
import { pruneSuperseded, registerVersion, retireVersion, type RegistrationDeps } from "./registration";
import { parseVersionArn } from "./version-arn";
import { secretsManagerStore } from "../runtime/secret-store";

export interface RegistrationEvent {
  RequestType: "Create" | "Update" | "Delete";
  PhysicalResourceId?: string;
  ResourceProperties: { VersionArn?: unknown };
}

export interface OnEventResponse {
  PhysicalResourceId: string;
}

export interface IsCompleteResponse {
  IsComplete: boolean;
  Data?: Record<string, string>;
}

function versionArnOf(event: RegistrationEvent): string {
  const arn = event.ResourceProperties.VersionArn;
  if (typeof arn !== "string" || parseVersionArn(arn) === undefined) {
    throw new Error(`VersionArn must be a published Lambda version ARN, got ${JSON.stringify(arn)}`);
  }
  return arn;
}

/**
 * The physical id is the version ARN, so a new version makes CloudFormation replace the resource:
 * Create/Update register the new one, and the Delete that follows retires the old one.
 *
 * @example
 * await onEventWith({ RequestType: "Create", ResourceProperties: { VersionArn: arn } }); // { PhysicalResourceId: arn }
 */
export async function onEventWith(event: RegistrationEvent): Promise<OnEventResponse> {
  if (event.RequestType === "Delete") return { PhysicalResourceId: event.PhysicalResourceId ?? "" };
  return { PhysicalResourceId: versionArnOf(event) };
}

/**
 * @example
 * await isCompleteWith(event, deps); // { IsComplete: false } while the runtime is not reachable yet
 */
export async function isCompleteWith(
  event: RegistrationEvent,
  deps: RegistrationDeps,
): Promise<IsCompleteResponse> {
  if (event.RequestType === "Delete") {
    const arn = event.PhysicalResourceId;
    if (arn !== undefined && parseVersionArn(arn) !== undefined) await retireVersion(arn, deps);
    return { IsComplete: true };
  }
  const versionArn = versionArnOf(event);
  try {
    const deployment = await registerVersion(versionArn, deps);
    const { pruned, pinned } = await pruneSuperseded(versionArn, deps);
    return {
      IsComplete: true,
      Data: { DeploymentId: deployment.id, Pruned: String(pruned.length), Pinned: String(pinned.length) },
    };
  } catch (e) {
    if (e instanceof AdminRequestError && e.retryable) {
      deps.log(`not yet: ${e.message}`);
      return { IsComplete: false };
    }
    throw e;
  }
}

async function liveDeps(): Promise<RegistrationDeps> {
  const adminUrl = process.env.ADMIN_URL;
  const secretArn = process.env.ADMIN_TOKEN_SECRET_ARN;
  if (!adminUrl || !secretArn) throw new Error("ADMIN_URL and ADMIN_TOKEN_SECRET_ARN must be set");
  // Read on every poll (one request per 10 s during a deploy): a rotated token is used at once.
  const token = await secretsManagerStore().read(secretArn);
  return {
    admin: httpAdminApi(adminUrl, token),
    deleteVersion: lambdaVersionDeleter(),
    log: (message) => console.log(message),
  };
}

/** Lambda entry points (the provider framework's onEvent and isComplete). */
export const onEvent = (event: RegistrationEvent): Promise<OnEventResponse> => onEventWith(event);
export const isComplete = async (event: RegistrationEvent): Promise<IsCompleteResponse> =>
  isCompleteWith(event, await liveDeps());
