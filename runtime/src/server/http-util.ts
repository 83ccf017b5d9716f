/**
 * Shared HTTP helpers of the servers: bounded body reading, JSON replies, and the one place that turns
 * any thrown value into an error response `{ code, message }`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { CONTENT_TYPE_JSON } from "@capstan/sdk/protocol";
import { ApiError, isApiError } from "./api-error";
import { toApiError } from "./error-status";
import { jsonDepthExceeds } from "./json-depth";
import { MAX_DISCARDED_BODY_BYTES, MAX_JSON_DEPTH } from "./limits";
import { MethodNotAllowed } from "./router";

/** Where the servers report what they could not handle (500s). */
export interface ServerLogger {
  error(message: string, fields?: Record<string, unknown>): void;
}

export const consoleLogger: ServerLogger = {
  error: (message, fields) => console.error(message, fields ?? {}),
};

/** The body exceeded its limit. `closeConnection`: too much to drain, the socket is dropped. */
export class BodyTooLarge extends ApiError {
  constructor(
    code: string,
    maxBytes: number,
    readonly closeConnection: boolean,
  ) {
    super(413, code, `request body larger than ${maxBytes} bytes`);
  }
}

/** The client went away mid-request; there is nobody to answer. */
export class ClientGone extends Error {
  override readonly name = "ClientGone";
  constructor() {
    super("client disconnected");
  }
}

/**
 * Reads the whole body, at most `maxBytes`. Beyond the limit it drains up to MAX_DISCARDED_BODY_BYTES
 * more so the client can read the 413, then gives up on the connection.
 *
 * @example
 * const body = await readBody(req, MAX_ADMIN_BODY_BYTES, "ADMIN"); // throws 413 ADMIN_BODY_TOO_LARGE
 */
export function readBody(
  req: IncomingMessage,
  maxBytes: number,
  area: string,
  tooLargeCode = `${area}_BODY_TOO_LARGE`,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes + MAX_DISCARDED_BODY_BYTES) {
      reject(new BodyTooLarge(tooLargeCode, maxBytes, true));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (size > maxBytes + MAX_DISCARDED_BODY_BYTES) {
        req.off("data", onData);
        req.pause();
        reject(new BodyTooLarge(tooLargeCode, maxBytes, true));
      }
    };
    req.on("data", onData);
    req.on("end", () => {
      if (size > maxBytes) reject(new BodyTooLarge(tooLargeCode, maxBytes, false));
      else resolve(Buffer.concat(chunks, size));
    });
    req.on("error", () => reject(new ClientGone()));
    req.on("close", () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

/** Decodes UTF-8 strictly: a body that is not valid UTF-8 is a 400 `${area}_BAD_ENCODING`. */
export function utf8(body: Buffer, area: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch (e) {
    throw new ApiError(400, `${area}_BAD_ENCODING`, "request body is not valid UTF-8", { cause: e });
  }
}

/**
 * Parses a JSON body (an empty body is `undefined`); 400 `${area}_BAD_JSON` otherwise, and 400
 * `${area}_JSON_TOO_DEEP` when it nests deeper than MAX_JSON_DEPTH.
 */
export function parseJsonBody(body: Buffer, area: string): unknown {
  const text = utf8(body, area);
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `${area}_BAD_JSON`, `request body is not valid JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new ApiError(400, `${area}_JSON_TOO_DEEP`, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}

/** True for `application/json`, `application/*+json`, with or without parameters. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mime = contentType.split(";")[0]!.trim().toLowerCase();
  return mime === CONTENT_TYPE_JSON || (mime.startsWith("application/") && mime.endsWith("+json"));
}

function writable(res: ServerResponse): boolean {
  return !res.headersSent && !res.destroyed && !res.writableEnded;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendRaw(res, status, JSON.stringify(body), CONTENT_TYPE_JSON, headers);
}

/** `body` empty: no content-type is sent (an empty value, like Restate's empty output). */
export function sendRaw(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType: string | undefined,
  headers: Record<string, string> = {},
): void {
  if (!writable(res)) return;
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (bytes.length > 0 && contentType !== undefined) res.setHeader("content-type", contentType);
  res.setHeader("content-length", String(bytes.length));
  res.end(bytes);
}

/**
 * ApiError → its status and `{ code, message }`, a RuntimeError → the status of its code
 * (error-status.ts); anything else is a bug: logged, 500 INTERNAL. Never throws, and does nothing
 * once the client is gone.
 */
export function sendError(
  res: ServerResponse,
  thrown: unknown,
  logger: ServerLogger,
  headers: Record<string, string> = {},
): void {
  if (thrown instanceof ClientGone) return;
  const error = toApiError(thrown);
  if (!isApiError(error)) {
    logger.error("unhandled error in HTTP handler", { error });
    const message = error instanceof Error ? error.message : String(error);
    sendJson(res, 500, { code: "INTERNAL", message }, headers);
    return;
  }
  const extra: Record<string, string> = { ...headers, ...error.headers };
  if (error instanceof MethodNotAllowed) extra.allow = error.allow.join(", ");
  if (error instanceof BodyTooLarge) extra.connection = "close";
  if (error.retryAfterSeconds !== undefined) extra["retry-after"] = String(error.retryAfterSeconds);
  sendJson(res, error.status, { code: error.code, message: error.message }, extra);
}
