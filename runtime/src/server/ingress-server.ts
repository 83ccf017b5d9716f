/**
 * Ingress (:8080): Restate's ingress HTTP API, so `@restatedev/restate-sdk-clients`, curl habits and
 * existing tooling work unchanged. Only translates HTTP to RuntimeApi calls and back.
 *
 * | Route | Restate equivalent |
 * |---|---|
 * | `GET/POST /{svc}/{handler}[/send]`, `/{svc}/{key}/{handler}[/send]` | same |
 * | `GET/POST /restate/call|send/{svc}[/{key}]/{handler}` | same (new ingress API) |
 * | `GET /restate/invocation/{id}/attach|output` | same |
 * | `GET /restate/workflow/{name}/{key}/attach|output` | same |
 * | `POST /restate/awakeables|a/{id}/resolve|reject` | same |
 * | `GET /restate/health` | same |
 */
import {
  assertNever,
  HEADER_INVOCATION_ID,
  isInvocationId,
  parseAwakeableId,
  type Completion,
  type Failure,
  type Target,
} from "@capstan/sdk/protocol";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./api-error";
import { startHttpServer, type ServerHandle } from "./http-server";
import { consoleLogger, readBody, sendJson, sendRaw, utf8, type ServerLogger } from "./http-util";
import {
  delayOf,
  forwardedHeaders,
  idempotencyKeyOf,
  inputPayload,
  validateKey,
  validateTarget,
} from "./ingress-request";
import { MAX_INGRESS_BODY_BYTES } from "./limits";
import { sensitiveHeaders } from "./sensitive-headers";
import type { IngressVerifier } from "./ingress-auth";
import { Router, type RouteContext } from "./router";
import type { RuntimeApi } from "./runtime-api";

/** Restate's status for `output` of an invocation that has not completed yet. */
export const NOT_READY_STATUS = 470;
const HEALTH_PATH = "/restate/health";
/** Restate's header telling its clients whether an error is the invocation's (never retried). */
export const HEADER_ERROR_SOURCE = "x-restate-error-source";

export interface IngressServerOptions {
  api: RuntimeApi;
  host: string;
  /** 0 = an ephemeral port, reported by the handle. */
  port: number;
  logger?: ServerLogger;
  /** Caller headers never stored nor forwarded, besides DEFAULT_SENSITIVE_HEADERS (lower-case names). */
  sensitiveHeaders?: readonly string[];
  /** Authentication of callers (e.g. `apiKeyVerifier(keys)`); absent: anyone who reaches the port. */
  verifier?: IngressVerifier;
}

type InvokeMode = "call" | "send";

/**
 * Starts the ingress server.
 *
 * @example
 * const ingress = await startIngressServer({ api: runtime, host: "127.0.0.1", port: 8080 });
 * // curl localhost:8080/Greeter/greet --json '"Ann"'  → the runtime submits, awaits, replies 200
 * await ingress.close();
 */
export async function startIngressServer(options: IngressServerOptions): Promise<ServerHandle> {
  const { api } = options;
  const router = new Router("INGRESS");
  const sensitive = sensitiveHeaders(options.sensitiveHeaders);

  const invoke = async (ctx: RouteContext, target: Target, mode: InvokeMode): Promise<void> => {
    const validTarget = validateTarget(target.service, target.handler, target.key);
    const idempotencyKey = idempotencyKeyOf(ctx.req.headers);
    const delayMs = delayOf(ctx.query);
    if (mode === "call" && delayMs !== undefined) {
      throw new ApiError(
        400,
        "INGRESS_DELAY_NOT_SUPPORTED",
        "the delay query parameter is only supported with /send",
      );
    }
    const headers = forwardedHeaders(ctx.req.headers, sensitive);
    const body = await readBody(ctx.req, MAX_INGRESS_BODY_BYTES, "INGRESS");
    const input = inputPayload(body, ctx.req.headers["content-type"]);
    const request = {
      target: validTarget,
      input,
      headers,
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      ...(delayMs !== undefined && delayMs > 0 && { delayMs }),
    };
    if (mode !== "send") {
      // The id goes on every answer from now on: a drain's 503 tells the caller what to attach to.
      const { invocationId, result } = await api.call(request, ctx.signal, (id) => {
        if (!ctx.res.headersSent) ctx.res.setHeader(HEADER_INVOCATION_ID, id);
      });
      replyCompletion(ctx.res, invocationId, result);
      return;
    }
    const { invocationId, existing, scheduledAtMs } = await api.submit(request);
    sendJson(
      ctx.res,
      202,
      {
        invocationId,
        status: existing ? "PreviouslyAccepted" : "Accepted",
        ...(scheduledAtMs !== undefined && { executionTime: new Date(scheduledAtMs).toISOString() }),
      },
      { [HEADER_INVOCATION_ID]: invocationId },
    );
  };

  const attach = async (ctx: RouteContext, invocationId: string): Promise<void> => {
    const result = await api.awaitResult(invocationId, ctx.signal);
    replyCompletion(ctx.res, invocationId, result);
  };

  const output = async (ctx: RouteContext, invocationId: string): Promise<void> => {
    const state = await api.output(invocationId);
    if (!state.ready) {
      throw new ApiError(
        NOT_READY_STATUS,
        "INGRESS_NOT_READY",
        `invocation ${invocationId} has not completed yet`,
      );
    }
    replyCompletion(ctx.res, invocationId, state.result);
  };

  const invocationId = (raw: string): string => {
    if (!isInvocationId(raw)) {
      throw new ApiError(
        400,
        "INGRESS_INVALID_INVOCATION_ID",
        `not an invocation id: ${JSON.stringify(raw)}`,
      );
    }
    return raw;
  };

  const workflowRun = async (ctx: RouteContext): Promise<string> => {
    const { service, key } = validateTarget(ctx.params.name!, "run", ctx.params.key);
    const id = await api.workflowInvocation(service, key!);
    if (id === undefined) {
      throw new ApiError(
        404,
        "INGRESS_WORKFLOW_NOT_FOUND",
        `no workflow ${service} with id ${JSON.stringify(key)}`,
      );
    }
    return id;
  };

  /** Restate's attach/output by idempotency key: `/restate/invocation/{svc}[/{key}]/{handler}/{idempotencyKey}/...`. */
  const idempotentRun = async (ctx: RouteContext): Promise<string> => {
    const target = validateTarget(ctx.params.service!, ctx.params.handler!, ctx.params.key);
    const idempotencyKey = ctx.params.idem!;
    const id = await api.idempotentInvocation(target, idempotencyKey);
    if (id === undefined) {
      throw new ApiError(
        404,
        "INGRESS_INVOCATION_NOT_FOUND",
        `no invocation of ${target.service}/${target.handler} with idempotency key ${JSON.stringify(idempotencyKey)}`,
      );
    }
    return id;
  };

  const completeAwakeable = async (ctx: RouteContext, outcome: "resolve" | "reject"): Promise<void> => {
    const id = ctx.params.id!;
    try {
      parseAwakeableId(id);
    } catch (e) {
      throw new ApiError(400, "INGRESS_INVALID_AWAKEABLE_ID", `not an awakeable id: ${JSON.stringify(id)}`, {
        cause: e,
      });
    }
    const body = await readBody(ctx.req, MAX_INGRESS_BODY_BYTES, "INGRESS");
    // Restate rejects with code UNKNOWN (500) and the body's text as the message.
    const completion: Completion =
      outcome === "resolve"
        ? { kind: "value", value: inputPayload(body, ctx.req.headers["content-type"]) }
        : { kind: "failure", failure: { code: 500, message: utf8(body, "INGRESS") } };
    await api.completeAwakeable(id, completion);
    sendRaw(ctx.res, 202, "", undefined);
  };

  router
    .on("GET", HEALTH_PATH, async ({ res }) => {
      const health = api.health();
      sendJson(res, health.status === "ok" ? 200 : 503, { status: health.status });
    })
    .on("POST", "/restate/awakeables/:id/resolve", (ctx) => completeAwakeable(ctx, "resolve"))
    .on("POST", "/restate/awakeables/:id/reject", (ctx) => completeAwakeable(ctx, "reject"))
    .on("POST", "/restate/a/:id/resolve", (ctx) => completeAwakeable(ctx, "resolve"))
    .on("POST", "/restate/a/:id/reject", (ctx) => completeAwakeable(ctx, "reject"))
    .on("GET", "/restate/invocation/:id/attach", (ctx) => attach(ctx, invocationId(ctx.params.id!)))
    .on("GET", "/restate/invocation/:id/output", (ctx) => output(ctx, invocationId(ctx.params.id!)))
    .on("GET", "/restate/invocation/:service/:handler/:idem/attach", async (ctx) =>
      attach(ctx, await idempotentRun(ctx)),
    )
    .on("GET", "/restate/invocation/:service/:handler/:idem/output", async (ctx) =>
      output(ctx, await idempotentRun(ctx)),
    )
    .on("GET", "/restate/invocation/:service/:key/:handler/:idem/attach", async (ctx) =>
      attach(ctx, await idempotentRun(ctx)),
    )
    .on("GET", "/restate/invocation/:service/:key/:handler/:idem/output", async (ctx) =>
      output(ctx, await idempotentRun(ctx)),
    )
    .on("GET", "/restate/workflow/:name/:key/attach", async (ctx) => attach(ctx, await workflowRun(ctx)))
    .on("GET", "/restate/workflow/:name/:key/output", async (ctx) => output(ctx, await workflowRun(ctx)));

  // Restate accepts GET as well as POST for invocations (a GET carries an empty input).
  const methods: Array<"GET" | "POST"> = ["GET", "POST"];
  for (const mode of ["call", "send"] as const) {
    router
      .on(methods, `/restate/${mode}/:service/:handler`, (ctx) =>
        invoke(ctx, { service: ctx.params.service!, handler: ctx.params.handler! }, mode),
      )
      .on(methods, `/restate/${mode}/:service/:key/:handler`, (ctx) =>
        invoke(
          ctx,
          { service: ctx.params.service!, key: ctx.params.key!, handler: ctx.params.handler! },
          mode,
        ),
      );
  }

  // Restate's original paths. `restate` is reserved, as in Restate.
  const legacy = (ctx: RouteContext): string => {
    const service = ctx.params.a!;
    if (service === "restate") {
      throw new ApiError(404, "INGRESS_NOT_FOUND", `no route for ${ctx.req.method} ${ctx.req.url}`);
    }
    return service;
  };
  router
    .on(methods, "/:a/:b", (ctx) => invoke(ctx, { service: legacy(ctx), handler: ctx.params.b! }, "call"))
    .on(methods, "/:a/:b/:c", async (ctx) => {
      const service = legacy(ctx);
      const { b, c } = ctx.params as { b: string; c: string };
      // `/{svc}/{handler}/send` or `/{obj}/{key}/send` (a handler named "send"): Restate decides by the
      // service's kind, and so do we.
      if (c === "send" && !(await isKeyed(api, service))) {
        return invoke(ctx, { service, handler: b }, "send");
      }
      return invoke(ctx, { service, key: b, handler: c }, "call");
    })
    .on(methods, "/:a/:b/:c/:d", async (ctx) => {
      const service = legacy(ctx);
      if (ctx.params.d !== "send") {
        throw new ApiError(404, "INGRESS_NOT_FOUND", `no route for ${ctx.req.method} ${ctx.req.url}`);
      }
      return invoke(ctx, { service, key: validateKey(ctx.params.b!), handler: ctx.params.c! }, "send");
    });

  return startHttpServer({
    host: options.host,
    port: options.port,
    router,
    logger: options.logger ?? consoleLogger,
    errorHeaders: { [HEADER_ERROR_SOURCE]: "ingress" },
    ...(options.verifier !== undefined && { authorize: authenticate(options.verifier) }),
  });
}

/** Health stays open (load balancers probe it); every other path needs the verifier's yes. */
function authenticate(verifier: IngressVerifier) {
  return async (req: IncomingMessage, _method: string, path: string): Promise<void> => {
    if (path === HEALTH_PATH) return;
    if (await verifier.verify(req.headers)) return;
    throw new ApiError(401, "INGRESS_UNAUTHORIZED", "missing or unknown API key", {
      headers: { "www-authenticate": 'Bearer realm="capstan-ingress"' },
    });
  };
}

async function isKeyed(api: RuntimeApi, service: string): Promise<boolean> {
  const services = await api.listServices();
  const kind = services.find((s) => s.name === service)?.kind;
  return kind === "object" || kind === "workflow";
}

/**
 * The invocation's result as Restate replies it: the output payload as the body, or the failure with
 * its code as the HTTP status (500 when it is not an error status).
 */
function replyCompletion(res: ServerResponse, invocationId: string, result: Completion): void {
  const headers = { [HEADER_INVOCATION_ID]: invocationId };
  switch (result.kind) {
    case "value":
      sendRaw(res, 200, result.value, "application/json", headers);
      return;
    case "empty":
      sendRaw(res, 200, "", undefined, headers);
      return;
    case "failure": {
      const { failure } = result;
      const status = failure.code >= 400 && failure.code <= 599 ? failure.code : 500;
      sendJson(res, status, invocationFailureBody(failure), {
        ...headers,
        [HEADER_ERROR_SOURCE]: "invocation",
      });
      return;
    }
    default:
      assertNever(result);
  }
}

/**
 * An invocation's failure as the ingress answers it: Restate's shape at the top level — the failure's
 * numeric `code`, `message` and `metadata`, which Restate's clients and habits read — plus Capstan's
 * stable `capstanCode` and the recorded `failure` (with its error `name`).
 */
export function invocationFailureBody(failure: Failure): Record<string, unknown> {
  return {
    code: failure.code,
    message: failure.message,
    metadata: failure.metadata ?? {},
    capstanCode: "INGRESS_INVOCATION_FAILED",
    failure,
  };
}
