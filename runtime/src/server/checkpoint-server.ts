/**
 * The checkpoint listener (CAPSTAN_CHECKPOINT_PORT): the one endpoint handlers must reach, on a
 * listener of its own so that reaching it gives a handler nothing else (admin stays unreachable from
 * handler code). It serves POST CHECKPOINT_PATH only; every other path is a JSON 404.
 */
import { CHECKPOINT_PATH, decodeCheckpointRequest, isProtocolError, parseJson } from "@capstan/sdk/protocol";
import { ApiError } from "./api-error";
import { startHttpServer, type ServerHandle } from "./http-server";
import { consoleLogger, readBody, sendJson, type ServerLogger } from "./http-util";
import { MAX_CHECKPOINT_BODY_BYTES } from "./limits";
import { Router } from "./router";
import type { RuntimeApi } from "./runtime-api";

export interface CheckpointServerOptions {
  api: RuntimeApi;
  host: string;
  /** 0 = an ephemeral port, reported by the handle. */
  port: number;
  logger?: ServerLogger;
}

/**
 * Starts the checkpoint listener.
 *
 * @example
 * const checkpoint = await startCheckpointServer({ api: runtime, host: "127.0.0.1", port: 9071 });
 * // the SDK posts CheckpointRequests to http://127.0.0.1:9071/internal/v1/checkpoint
 * await checkpoint.close();
 */
export async function startCheckpointServer(options: CheckpointServerOptions): Promise<ServerHandle> {
  const { api } = options;
  const router = new Router("CHECKPOINT").on("POST", CHECKPOINT_PATH, async (ctx) => {
    const body = await readBody(ctx.req, MAX_CHECKPOINT_BODY_BYTES, "CHECKPOINT", "PROTOCOL_TOO_LARGE");
    const raw = protocol(() => parseJson(body, MAX_CHECKPOINT_BODY_BYTES));
    // The credential first: nothing of a request the runtime did not authorize is decoded further.
    const fields = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const verified = api.authenticateCheckpoint(fields.invocationId, fields.attemptToken);
    const request = protocol(() => decodeCheckpointRequest(raw));
    sendJson(ctx.res, 200, await api.checkpoint(request, verified, ctx.signal));
  });
  return startHttpServer({
    host: options.host,
    port: options.port,
    router,
    logger: options.logger ?? consoleLogger,
  });
}

/** A ProtocolError from decoding becomes its 4xx with the protocol's code. */
function protocol<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (isProtocolError(e))
      throw new ApiError(e.code === "PROTOCOL_TOO_LARGE" ? 413 : 400, e.code, e.message, { cause: e });
    throw e;
  }
}
