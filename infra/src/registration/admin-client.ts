/**
 * The registration handler's view of the runtime's admin API: the few calls it makes, each bounded
 * by ADMIN_REQUEST_TIMEOUT_MS so a handler never outlives its Lambda (restatedev/cdk #91 stalled
 * CloudFormation for an hour with an unbounded wait). Failures say whether trying again later can
 * help; the provider framework's isComplete poll is the only retry loop.
 */

/** One admin request's budget; the handler's Lambda timeout is several of these. */
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;

/** Admin error codes a later attempt can clear (a Lambda just published may not answer yet). */
const RETRYABLE_CODES = new Set(["ADMIN_DISCOVERY_FAILED"]);

export class AdminRequestError extends Error {
  override readonly name = "AdminRequestError";
  constructor(
    message: string,
    /** True when the same request may succeed later: unreachable, 5xx, 429, discovery not yet possible. */
    readonly retryable: boolean,
    readonly status?: number,
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface LambdaDeployment {
  id: string;
  arn: string;
}

export interface AdminApi {
  register(arn: string, force: boolean): Promise<LambdaDeployment>;
  lambdaDeployments(): Promise<LambdaDeployment[]>;
  /** Deployment ids that serve at least one service (new invocations go to them). */
  servingDeploymentIds(): Promise<Set<string>>;
  /** Invocations pinned to the deployment that have not completed. */
  pinnedInvocations(deploymentId: string): Promise<number>;
  remove(deploymentId: string): Promise<void>;
}

/** Deployment ids are `dp_` + hex (runtime registry); checked before one goes into a query. */
const DEPLOYMENT_ID = /^dp_[A-Za-z0-9]{1,64}$/;

/**
 * @example
 * const admin = httpAdminApi("http://internal-capstan.elb.amazonaws.com:9070", token);
 * const { id } = await admin.register("arn:aws:lambda:eu-west-1:123456789012:function:checkout:7", false);
 */
export function httpAdminApi(baseUrl: string, token: string, timeoutMs = ADMIN_REQUEST_TIMEOUT_MS): AdminApi {
  const base = baseUrl.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new AdminRequestError(
        `${method} ${path}: runtime unreachable (${(e as Error).message})`,
        true,
        undefined,
        undefined,
        {
          cause: e,
        },
      );
    }
    const text = await response.text();
    if (response.ok) return text === "" ? undefined : (JSON.parse(text) as unknown);
    let code: string | undefined;
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { code?: unknown; message?: unknown };
      if (typeof parsed.code === "string") code = parsed.code;
      if (typeof parsed.message === "string") message = parsed.message;
    } catch {
      // not JSON (a load balancer's own error page): keep the text
    }
    const retryable =
      response.status >= 500 || response.status === 429 || (code !== undefined && RETRYABLE_CODES.has(code));
    throw new AdminRequestError(
      `${method} ${path}: ${response.status} ${code ?? ""} ${message}`.trim(),
      retryable,
      response.status,
      code,
    );
  };

  return {
    async register(arn, force) {
      const d = (await call("POST", "/deployments", { arn, force })) as { id: string };
      return { id: d.id, arn };
    },
    async lambdaDeployments() {
      const { deployments } = (await call("GET", "/deployments")) as {
        deployments: Array<{ id: string; endpoint: { kind: string; arn?: string } }>;
      };
      return deployments.flatMap((d) =>
        d.endpoint.kind === "lambda" && typeof d.endpoint.arn === "string"
          ? [{ id: d.id, arn: d.endpoint.arn }]
          : [],
      );
    },
    async servingDeploymentIds() {
      const { services } = (await call("GET", "/services")) as { services: Array<{ deploymentId: string }> };
      return new Set(services.map((s) => s.deploymentId));
    },
    async pinnedInvocations(deploymentId) {
      if (!DEPLOYMENT_ID.test(deploymentId))
        throw new AdminRequestError(`not a deployment id: ${deploymentId}`, false);
      const result = (await call("POST", "/query", {
        query: `SELECT count(*) AS n FROM invocations WHERE deployment_id = '${deploymentId}' AND status <> 'completed'`,
      })) as { rows: unknown[][] };
      const n = result.rows[0]?.[0];
      if (typeof n !== "number") throw new AdminRequestError("unexpected /query answer", false);
      return n;
    },
    async remove(deploymentId) {
      await call("DELETE", `/deployments/${encodeURIComponent(deploymentId)}`);
    },
  };
}
