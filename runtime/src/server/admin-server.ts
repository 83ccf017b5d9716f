/**
 * Admin (:9070): deployments, services, invocations, state, read-only SQL, health, metrics, the
 * cluster's membership (/cluster) and the web console (/ui). Only translates HTTP to RuntimeApi calls
 * and back. The SDK's checkpoint endpoint has its own listener (checkpoint-server.ts), so handlers
 * that reach it cannot reach admin.
 */
import { CONTENT_TYPE_JSON, isInvocationId } from "@capstan/sdk/protocol";
import { pageOf } from "../api/invocation-list-order";
import { ApiError } from "./api-error";
import {
  decodeStateValues,
  INVOCATION_ACTIONS,
  parseInvocationFilter,
  parseLogsQuery,
  parseQueryBody,
  parseRegisterDeployment,
  parseResumeRequest,
  parseStatePatch,
  validateKey,
  validateName,
} from "./admin-request";
import { addConsoleRoutes } from "./console-assets";
import { startHttpServer, type ServerHandle } from "./http-server";
import { consoleLogger, parseJsonBody, readBody, sendJson, sendRaw, type ServerLogger } from "./http-util";
import { MAX_ADMIN_BODY_BYTES } from "./limits";
import {
  DEFAULT_REGISTRATION_ALLOW,
  isRegistrationAllowed,
  parseRegistrationAllow,
  type RegistrationAllowList,
} from "./registration-allow";
import { Router, type RouteContext } from "./router";
import { requireAdminToken } from "../security/admin-auth";
import type { InvocationAction, RuntimeApi } from "./runtime-api";

/** Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface AdminServerOptions {
  api: RuntimeApi;
  host: string;
  /** 0 = an ephemeral port, reported by the handle. */
  port: number;
  /**
   * Required as `Authorization: Bearer` on every route but GET /health and /health/ready. Absent:
   * no authentication (only the HTTP layer's own tests, with a fake runtime).
   */
  adminToken?: string;
  logger?: ServerLogger;
  /** The built web console (served at /ui); defaults to dist/console beside the compiled server. */
  consoleDir?: string;
  /** Deployments `POST /deployments` may register; default DEFAULT_REGISTRATION_ALLOW. */
  registrationAllow?: RegistrationAllowList;
}

/**
 * Starts the admin server.
 *
 * @example
 * const admin = await startAdminServer({ api: runtime, host: "127.0.0.1", port: 9070 });
 * // curl localhost:9070/deployments --json '{"uri":"http://localhost:9080"}'  → 201 DeploymentInfo
 * await admin.close();
 */
export async function startAdminServer(options: AdminServerOptions): Promise<ServerHandle> {
  const { api } = options;
  const router = new Router("ADMIN");
  const allow = options.registrationAllow ?? parseRegistrationAllow(DEFAULT_REGISTRATION_ALLOW);

  const jsonBody = async (ctx: RouteContext): Promise<unknown> =>
    parseJsonBody(await readBody(ctx.req, MAX_ADMIN_BODY_BYTES, "ADMIN"), "ADMIN");

  const invocationId = (raw: string): string => {
    if (!isInvocationId(raw)) {
      throw new ApiError(400, "ADMIN_INVALID_INVOCATION_ID", `not an invocation id: ${JSON.stringify(raw)}`);
    }
    return raw;
  };

  const act = async (ctx: RouteContext, id: string, action: InvocationAction): Promise<void> => {
    await api.invocationAction(id, action);
    // A cancel is a request the handler observes later; the others take effect when applied.
    sendJson(ctx.res, action === "cancel" ? 202 : 200, { invocationId: id, action });
  };

  router
    .on("GET", "/health", async ({ res }) => {
      const health = api.health();
      sendJson(res, health.status === "ok" ? 200 : 503, health);
    })
    // Liveness above; readiness here: wait on this one before sending requests (503 until ready).
    .on("GET", "/health/ready", async ({ res }) => {
      const readiness = api.readiness();
      sendJson(res, readiness.ready ? 200 : 503, readiness);
    })
    .on("GET", "/metrics", async ({ res }) => sendRaw(res, 200, await api.metrics(), METRICS_CONTENT_TYPE))
    .on("GET", "/cluster", async ({ res }) => sendJson(res, 200, await api.clusterInfo()))
    .on("POST", "/deployments", async (ctx) => {
      const { endpoint, force } = parseRegisterDeployment(await jsonBody(ctx));
      // Before discovery: a refused endpoint is never contacted.
      if (!isRegistrationAllowed(allow, endpoint)) {
        throw new ApiError(
          403,
          "ADMIN_DEPLOYMENT_NOT_ALLOWED",
          `${endpoint.kind === "http" ? endpoint.url : endpoint.arn} is not in CAPSTAN_REGISTRATION_ALLOW (${allow.entries.join(", ")})`,
        );
      }
      sendJson(ctx.res, 201, await api.registerDeployment(endpoint, { force }));
    })
    .on("GET", "/deployments", async ({ res }) =>
      sendJson(res, 200, { deployments: await api.listDeployments() }),
    )
    .on("GET", "/deployments/:id", async ({ res, params }) => {
      const deployment = (await api.listDeployments()).find((d) => d.id === params.id);
      if (deployment === undefined) {
        throw new ApiError(404, "ADMIN_DEPLOYMENT_NOT_FOUND", `no deployment ${JSON.stringify(params.id)}`);
      }
      sendJson(res, 200, deployment);
    })
    .on("DELETE", "/deployments/:id", async ({ res, params }) => {
      await api.removeDeployment(params.id!);
      sendRaw(res, 202, "", undefined);
    })
    .on("GET", "/services", async ({ res }) => sendJson(res, 200, { services: await api.listServices() }))
    .on("GET", "/services/:name", async ({ res, params }) => {
      const service = (await api.listServices()).find((s) => s.name === params.name);
      if (service === undefined) {
        throw new ApiError(404, "ADMIN_SERVICE_NOT_FOUND", `no service ${JSON.stringify(params.name)}`);
      }
      sendJson(res, 200, service);
    })
    // Newest first; when more follow, `nextCursor`, which `?cursor=` continues from (same filter).
    .on("GET", "/invocations", async ({ res, query }) => {
      const filter = parseInvocationFilter(query);
      const rows = await api.listInvocations({ ...filter, limit: filter.limit + 1 });
      sendJson(res, 200, pageOf(rows, filter.limit));
    })
    .on("GET", "/invocations/:id", async ({ res, params }) => {
      const id = invocationId(params.id!);
      const detail = await api.describeInvocation(id);
      if (detail === undefined) throw new ApiError(404, "ADMIN_INVOCATION_NOT_FOUND", `no invocation ${id}`);
      sendJson(res, 200, detail);
    })
    // What the handler printed, attempt by attempt (or where it is, when this runtime has none).
    .on("GET", "/invocations/:id/logs", async ({ res, params, query }) =>
      sendJson(res, 200, await api.invocationLogs(invocationId(params.id!), parseLogsQuery(query))),
    )
    // Restate's `DELETE /invocations/{id}?mode=cancel|kill|purge`; purge by default.
    .on("DELETE", "/invocations/:id", async (ctx) => {
      const mode = ctx.query.get("mode") ?? "purge";
      if (mode !== "purge" && mode !== "cancel" && mode !== "kill") {
        throw new ApiError(400, "ADMIN_INVALID_ACTION", "mode must be one of purge, cancel, kill");
      }
      await act(ctx, invocationId(ctx.params.id!), mode);
    })
    // Resume, optionally onto another deployment: `{ "deployment": "latest" | id }` or Restate's
    // `?deployment=`. Answers with the deployment the new attempt runs on.
    .on("POST", "/invocations/:id/resume", async (ctx) => {
      const id = invocationId(ctx.params.id!);
      const deployment = parseResumeRequest(await jsonBody(ctx), ctx.query);
      const resumed = await api.resumeInvocation(id, deployment === undefined ? {} : { deployment });
      sendJson(ctx.res, 200, { ...resumed, action: "resume" });
    })
    .on("POST", "/invocations/:id/restart-as-new", async (ctx) => {
      const id = invocationId(ctx.params.id!);
      const { invocationId: newInvocationId } = await api.restartAsNew(id);
      sendJson(ctx.res, 201, { invocationId: id, newInvocationId });
    })
    .on("POST", "/invocations/:id/:action", async (ctx) => {
      const action = ctx.params.action as InvocationAction;
      if (!INVOCATION_ACTIONS.includes(action)) {
        throw new ApiError(404, "ADMIN_NOT_FOUND", `unknown invocation action ${JSON.stringify(action)}`);
      }
      await act(ctx, invocationId(ctx.params.id!), action);
    })
    .on("GET", "/state/:service/:key", async ({ res, params }) => {
      const state = await api.getState(validateName(params.service!, "service"), validateKey(params.key!));
      sendJson(res, 200, { state: decodeStateValues(state) });
    })
    .on("PATCH", "/state/:service/:key", async (ctx) => {
      const service = validateName(ctx.params.service!, "service");
      const key = validateKey(ctx.params.key!);
      await api.patchState(service, key, parseStatePatch(await jsonBody(ctx)));
      sendJson(ctx.res, 200, { state: decodeStateValues(await api.getState(service, key)) });
    })
    .on("POST", "/query", async (ctx) =>
      sendRaw(ctx.res, 200, await api.query(parseQueryBody(await jsonBody(ctx))), CONTENT_TYPE_JSON),
    );

  addConsoleRoutes(router, options.consoleDir);

  return startHttpServer({
    host: options.host,
    port: options.port,
    router,
    logger: options.logger ?? consoleLogger,
    ...(options.adminToken !== undefined && { authorize: requireAdminToken(options.adminToken) }),
  });
}
