/**
 * Caller headers that carry credentials. The ingress forwards the other headers to the handler, and
 * whatever it forwards is recorded with the invocation: durably in the log, in snapshots, and shown
 * by `GET /invocations/{id}`. A credential recorded there outlives the request by the invocation's
 * retention and is readable by anyone with admin access, so these are dropped before the invocation
 * exists — the handler never sees them, in any attempt (an attempt-1-only header would also make a
 * retry or a replay see different input than the first run did).
 */

/** Always dropped: HTTP's credential headers and the ingress's own API-key header. */
export const DEFAULT_SENSITIVE_HEADERS: readonly string[] = [
  "authorization",
  "cookie",
  "proxy-authorization",
  "x-api-key",
];

/**
 * The built-in names plus `extra` (CAPSTAN_SENSITIVE_HEADERS), lower-cased as node:http names them.
 *
 * @example sensitiveHeaders(["X-Session"]).has("x-session") // → true
 */
export function sensitiveHeaders(extra: readonly string[] = []): ReadonlySet<string> {
  return new Set([...DEFAULT_SENSITIVE_HEADERS, ...extra.map((h) => h.trim().toLowerCase())]);
}

/** `headers` without the sensitive ones (for invocations recorded before a name was added). */
export function withoutSensitive(
  headers: Record<string, string>,
  sensitive: ReadonlySet<string> = sensitiveHeaders(),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!sensitive.has(k.toLowerCase())) out[k] = v;
  return out;
}
