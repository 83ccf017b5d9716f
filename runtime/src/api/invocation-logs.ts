/**
 * `GET /invocations/:id/logs`: what the invocation's handler printed, from the runtime's
 * HandlerLogSource (locally, the local Lambda endpoint), or — where the runtime has none, as on AWS —
 * where those lines are instead (the function's CloudWatch log group), never an empty answer that
 * reads as "the handler printed nothing".
 */
import type { DeploymentEndpoint } from "../invoker/invoker";
import type { HandlerLogSource } from "../telemetry/handler-logs";
import type { InvocationLogs } from "../server/runtime-api";

/** Lambda's log group of a function name or ARN (qualified or not). */
export function lambdaLogGroup(nameOrArn: string): string {
  const parts = nameOrArn.split(":");
  // arn:aws:lambda:region:account:function:name[:qualifier] or name[:qualifier]
  const name = parts[0] === "arn" ? parts[6] : parts[0];
  return `/aws/lambda/${name ?? nameOrArn}`;
}

/**
 * @example
 * await invocationLogs("inv_…", { kind: "lambda", arn: "checkout:3" }, undefined, { afterSeq: 0, limit: 500 });
 * // { source: "elsewhere", logGroup: "/aws/lambda/checkout", where: "…" }
 */
export async function invocationLogs(
  invocationId: string,
  endpoint: DeploymentEndpoint | undefined,
  source: HandlerLogSource | undefined,
  page: { afterSeq: number; limit: number },
): Promise<InvocationLogs> {
  // The source (the local Lambda endpoint) runs Lambda functions only: an HTTP deployment's output
  // is in its own process's logs even under `npm start`.
  if (source !== undefined && endpoint?.kind !== "http") {
    const read = await source.read(invocationId, page.afterSeq, page.limit);
    return {
      invocationId,
      source: "local",
      lines: read.lines,
      dropped: read.dropped,
      ...(read.nextAfterSeq !== undefined && { nextAfter: read.nextAfterSeq }),
    };
  }
  if (endpoint?.kind === "lambda") {
    const logGroup = lambdaLogGroup(endpoint.arn);
    return {
      invocationId,
      source: "elsewhere",
      logGroup,
      where:
        `this runtime does not keep handler output: see CloudWatch Logs, log group ${logGroup} ` +
        `(ctx.console lines carry the invocation id, so filter on ${invocationId})`,
    };
  }
  return {
    invocationId,
    source: "elsewhere",
    where:
      endpoint === undefined
        ? "this runtime does not keep handler output: see the logs of the deployment that ran it"
        : `this runtime does not keep handler output: see the logs of the HTTP deployment ${endpoint.url} ` +
          `(ctx.console lines carry the invocation id, so filter on ${invocationId})`,
  };
}
