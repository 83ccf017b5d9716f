/**
 * Optional authentication of ingress callers. Off by default (loopback only); when configured, every
 * ingress route but `/restate/health` needs a credential the verifier accepts, else 401
 * `INGRESS_UNAUTHORIZED`. The check runs before routing, so an unauthenticated caller learns nothing
 * about which services or invocations exist.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/** Decides whether a request may use the ingress. Anything async (a JWT check, a lookup) fits. */
export interface IngressVerifier {
  /** True: the request proceeds. False: 401. A throw is a 500 (a bug of the verifier). */
  verify(headers: IncomingHttpHeaders): boolean | Promise<boolean>;
}

/** The header a key may come in besides `Authorization: Bearer <key>`. */
export const HEADER_API_KEY = "x-api-key";

/**
 * The caller's credential: `Authorization: Bearer <key>` or `x-api-key: <key>`; undefined when
 * absent or repeated (two values are never both checked).
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m !== null) return m[1];
  }
  const key = headers[HEADER_API_KEY];
  return typeof key === "string" && key !== "" ? key : undefined;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/**
 * Accepts a request that presents one of `keys`. Compared in constant time: both sides are hashed
 * first (timingSafeEqual needs equal lengths, and a length check would leak the key's length), and
 * every key is compared, so the time does not say which key, or how much of one, matched.
 *
 * @example
 * const verifier = apiKeyVerifier(["k-2026-11", "k-2026-12"]); // two keys during a rotation
 * await verifier.verify({ authorization: "Bearer k-2026-12" }) // → true
 */
export function apiKeyVerifier(keys: readonly string[]): IngressVerifier {
  if (keys.length === 0) throw new Error("apiKeyVerifier needs at least one key");
  const expected = keys.map(digest);
  return {
    verify(headers) {
      const key = presentedKey(headers);
      if (key === undefined) return false;
      const presented = digest(key);
      let ok = false;
      for (const e of expected) ok = timingSafeEqual(e, presented) || ok;
      return ok;
    },
  };
}
