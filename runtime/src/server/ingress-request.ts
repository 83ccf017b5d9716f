/**
 * Turns an ingress HTTP request into the parts of a SubmitRequest: validated target names and key,
 * idempotency key, forwarded headers, input payload and delay. Pure functions over plain values.
 */
import type { IncomingHttpHeaders } from "node:http";
import {
  HEADER_IDEMPOTENCY_KEY,
  MAX_HEADERS,
  MAX_HEADERS_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  type Payload,
  type Target,
} from "@capstan/sdk/protocol";
import { ApiError } from "./api-error";
import { parseDelayMs } from "./delay";
import { isJsonContentType, utf8 } from "./http-util";
import { sensitiveHeaders } from "./sensitive-headers";

/**
 * Never forwarded to the handler: hop-by-hop headers (RFC 9110 §7.6.1), framing, and the ones the
 * ingress consumes itself.
 */
const DROPPED_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "expect",
  HEADER_IDEMPOTENCY_KEY,
]);

/** Printable ASCII: an idempotency key ends up in logs, ids and SQL results. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

export function validateTarget(service: string, handler: string, key: string | undefined): Target {
  for (const [what, name] of [
    ["service", service],
    ["handler", handler],
  ] as const) {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw new ApiError(
        400,
        "INGRESS_INVALID_NAME",
        `${what} name must be 1..${MAX_NAME_LENGTH} characters`,
      );
    }
  }
  if (key === undefined) return { service, handler };
  return { service, key: validateKey(key), handler };
}

export function validateKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new ApiError(400, "INGRESS_INVALID_KEY", `key must be 1..${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

/** The `idempotency-key` header, validated; undefined when absent. */
export function idempotencyKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[HEADER_IDEMPOTENCY_KEY];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    throw new ApiError(400, "INGRESS_INVALID_IDEMPOTENCY_KEY", "more than one idempotency-key header");
  }
  if (value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE_ASCII.test(value)) {
    throw new ApiError(
      400,
      "INGRESS_INVALID_IDEMPOTENCY_KEY",
      `idempotency-key must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
    );
  }
  return value;
}

/**
 * Headers handed to the handler, bounded by MAX_HEADERS and MAX_HEADERS_BYTES (431 beyond), without
 * the `sensitive` ones (sensitive-headers.ts: they would be stored with the invocation).
 */
export function forwardedHeaders(
  headers: IncomingHttpHeaders,
  sensitive: ReadonlySet<string> = sensitiveHeaders(),
): Record<string, string> {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ""),
  );
  const out: Record<string, string> = {};
  let count = 0;
  let bytes = 0;
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined || DROPPED_HEADERS.has(name) || named.has(name) || sensitive.has(name)) continue;
    const value = Array.isArray(raw) ? raw.join(", ") : raw;
    count += 1;
    bytes += Buffer.byteLength(name, "latin1") + Buffer.byteLength(value, "latin1");
    if (count > MAX_HEADERS || bytes > MAX_HEADERS_BYTES) {
      throw new ApiError(
        431,
        "INGRESS_HEADERS_TOO_LARGE",
        `more than ${MAX_HEADERS} headers or ${MAX_HEADERS_BYTES} bytes of headers`,
      );
    }
    out[name] = value;
  }
  return out;
}

/**
 * The body as the handler's input payload, as-is (like Restate). An empty body is the empty payload
 * `""` (Restate's JSON serde reads it as `undefined`). A JSON (or untyped) body must parse as JSON.
 */
export function inputPayload(body: Buffer, contentType: string | undefined): Payload {
  if (body.length === 0) return "";
  const text = utf8(body, "INGRESS");
  if (contentType === undefined || isJsonContentType(contentType)) {
    try {
      JSON.parse(text);
    } catch (e) {
      throw new ApiError(400, "INGRESS_BAD_JSON", `request body is not valid JSON: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  return text;
}

/** `?delay=` (case-insensitive name, like Restate); undefined when absent. */
export function delayOf(query: URLSearchParams): number | undefined {
  for (const [k, v] of query) {
    if (k.toLowerCase() === "delay") return parseDelayMs(v);
  }
  return undefined;
}
