/**
 * Admin API authentication: every request carries `Authorization: Bearer <token>`, except liveness
 * and readiness probes, which load balancers send without credentials and which reveal nothing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApiError } from "../server/api-error";

export const ADMIN_UNAUTHORIZED = "ADMIN_UNAUTHORIZED";
/** Paths answered without a token (GET only): `/health` (alive) and `/health/ready`. */
export const UNAUTHENTICATED_ADMIN_PATHS: ReadonlySet<string> = new Set(["/health", "/health/ready"]);
/**
 * The web console's static shell (`/`, `/ui`, `/ui/{file}`) holds no data: a browser must load it to
 * be asked for the token, which its every API call then carries.
 */
const CONSOLE_SHELL = /^\/(?:ui(?:\/[^/]*)?)?$/;

/** True for the GET requests admin answers without a token. */
export function isOpenAdminRequest(method: string, path: string): boolean {
  return method === "GET" && (UNAUTHENTICATED_ADMIN_PATHS.has(path) || CONSOLE_SHELL.test(path));
}

/**
 * True when `authorization` is `Bearer <token>`. Both sides are hashed first, so the comparison takes
 * the same time whatever the given value's length and content.
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
  const given = createHash("sha256")
    .update(m?.[1] ?? "")
    .digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}

/**
 * The admin server's `authorize` hook: throws 401 ADMIN_UNAUTHORIZED with `WWW-Authenticate: Bearer`.
 *
 * @example
 * startHttpServer({ ..., authorize: requireAdminToken(token) });
 */
export function requireAdminToken(
  token: string,
): (req: IncomingMessage, method: string, path: string) => void {
  return (req, method, path) => {
    if (isOpenAdminRequest(method, path)) return;
    if (bearerMatches(req.headers.authorization, token)) return;
    throw new ApiError(
      401,
      ADMIN_UNAUTHORIZED,
      req.headers.authorization === undefined
        ? "the admin API needs Authorization: Bearer <token> (`npx capstan admin-token` shows it)"
        : "the admin token is not valid",
      { headers: { "www-authenticate": 'Bearer realm="capstan-admin"' } },
    );
  };
}
