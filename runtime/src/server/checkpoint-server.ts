/**
 * The checkpoint listener (CAPSTAN_CHECKPOINT_PORT): the one endpoint handlers must reach, on a
 * listener of its own so that reaching it gives a handler nothing else (admin stays unreachable from
 * handler code). It serves POST CHECKPOINT_PATH only; every other path is a JSON 404. The attempt
 * credential comes in headers and is checked before a byte of the body is read: a request the
 * runtime did not authorize is answered 401 with its body unread and unparsed.
 */
import {
  CHECKPOINT_PATH,
  checkpointCredentialFrom,
  decodeCheckpointRequest,
  HEADER_CHECKPOINT_ATTEMPT_TOKEN,
  HEADER_CHECKPOINT_INVOCATION_ID,
  isProtocolError,
  parseJson,
} from "@capstan/sdk/protocol";
import { RuntimeError } from "../runtime-error";
import { CHECKPOINT_UNAUTHORIZED } from "../security/checkpoint-authentication";
import { ApiError } from "./api-error";
import { startHttpServer, type ServerHandle } from "./http-server";
import { consoleLogger, readBody, sendJson, type ServerLogger } from "./http-util";
import { MAX_CHECKPOINT_BODY_BYTES } from "./limits";
import { Router } from "./router";
import type { RuntimeApi } from "./runtime-api";

/** What a request without the credential headers (e.g. the earlier body form) is told. */
const MISSING_CREDENTIAL =
  `the attempt credential goes in the ${HEADER_CHECKPOINT_INVOCATION_ID} and ` +
  `${HEADER_CHECKPOINT_ATTEMPT_TOKEN} headers; a credential in the body (an older @capstan/sdk) is refused`;

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
    // The credential first, from the headers: nothing of a request the runtime did not authorize
    // is read, let alone parsed.
    // A refused request's body is never drained either: the connection closes after the answer.
    ctx.res.setHeader("connection", "close");
    const credential = checkpointCredentialFrom(ctx.req.headers);
    if (credential === undefined) throw new RuntimeError(CHECKPOINT_UNAUTHORIZED, MISSING_CREDENTIAL);
    const verified = api.authenticateCheckpoint(credential.invocationId, credential.attemptToken);
    ctx.res.removeHeader("connection");
    const body = await readBody(ctx.req, MAX_CHECKPOINT_BODY_BYTES, "CHECKPOINT", "PROTOCOL_TOO_LARGE");
    const raw = protocol(() => parseJson(body, MAX_CHECKPOINT_BODY_BYTES));
    const request = protocol(() => decodeCheckpointRequest(raw, credential));
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
