import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { LambdaApiError } from "./lambda-errors";
import { MAX_DRAINED_REQUEST_BYTES } from "./lambda-limits";

/** A request body, or how far past the limit it went. */
export type BodyResult =
  { readonly kind: "ok"; readonly body: Buffer } | { readonly kind: "too-large"; readonly sizeBytes: number };

/**
 * Reads a request body of at most `limitBytes`. A larger body is drained and discarded (up to
 * MAX_DRAINED_REQUEST_BYTES) so the caller still reads the 413; beyond that the socket is destroyed.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (declared > MAX_DRAINED_REQUEST_BYTES) {
      resolve({ kind: "too-large", sizeBytes: declared });
      return;
    }
    const chunks: Buffer[] = [];
    let sizeBytes = 0;
    req.on("data", (chunk: Buffer) => {
      sizeBytes += chunk.byteLength;
      if (sizeBytes <= limitBytes) chunks.push(chunk);
      else if (sizeBytes > MAX_DRAINED_REQUEST_BYTES) req.destroy();
    });
    req.on("end", () =>
      resolve(
        sizeBytes > limitBytes
          ? { kind: "too-large", sizeBytes }
          : { kind: "ok", body: Buffer.concat(chunks) },
      ),
    );
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("request aborted"));
    });
  });
}

/** A fresh request id, sent as `x-amzn-RequestId` and given to the handler as `awsRequestId`. */
export function newRequestId(): string {
  return randomUUID();
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/**
 * Answers with the rest-json error shape the AWS SDK decodes: the type in `x-amzn-ErrorType`, and a
 * `{"Type","message"}` body (plus any extra fields such as `Reason`).
 */
export function sendApiError(res: ServerResponse, error: LambdaApiError, requestId: string): void {
  const headers: Record<string, string> = {
    "x-amzn-ErrorType": error.errorType,
    "x-amzn-RequestId": requestId,
  };
  if (error.errorType === "TooManyRequestsException") headers["Retry-After"] = "1";
  sendJson(res, error.status, JSON.stringify(error.toBody()), headers);
}
