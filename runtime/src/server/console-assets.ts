/**
 * The web console's static files (built by runtime/console/build.mjs into dist/console), served by
 * the admin listener under /ui. The shell holds no data: every page reads the admin API with the
 * same bearer token as the CLI, so the console is exactly as authenticated as the API it calls.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ApiError } from "./api-error";
import { sendRaw } from "./http-util";
import type { Router } from "./router";

/** Where the build puts the console, relative to this file once compiled (dist/server → dist/console). */
export const DEFAULT_CONSOLE_DIR = path.resolve(__dirname, "../console");

/**
 * Only same-origin scripts, styles and API calls; no inline code, no frames, no forms posting
 * elsewhere. The bundle needs nothing more, so a script injected through a rendered value cannot run.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

const SECURITY_HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

interface Asset {
  body: Buffer;
  contentType: string;
}

/**
 * Reads the built console once (a few hundred KB). Undefined when it was not built: the routes then
 * answer ADMIN_CONSOLE_NOT_BUILT instead of failing the admin server.
 */
export function loadConsoleAssets(dir: string): Map<string, Asset> | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (contentType !== undefined)
      assets.set(name, { body: readFileSync(path.join(dir, name)), contentType });
  }
  return assets.has("index.html") ? assets : undefined;
}

/**
 * `GET /` redirects to the console; `/ui/` is its page; `/ui/{file}` its assets. Pages are addressed
 * by the URL's fragment (`/ui/#/invocations/inv_…`), so a reload never needs a server route per page.
 */
export function addConsoleRoutes(router: Router, dir: string = DEFAULT_CONSOLE_DIR): void {
  const assets = loadConsoleAssets(dir);
  const serve = (name: string): Asset => {
    if (assets === undefined) {
      throw new ApiError(
        404,
        "ADMIN_CONSOLE_NOT_BUILT",
        "the web console was not built: run `npm run build` (npm start builds it)",
      );
    }
    const asset = assets.get(name);
    if (asset === undefined)
      throw new ApiError(404, "ADMIN_NOT_FOUND", `no console file ${JSON.stringify(name)}`);
    return asset;
  };
  router
    .on("GET", "/", async ({ res }) => sendRaw(res, 302, "", undefined, { location: "/ui/" }))
    .on("GET", "/ui", async ({ res }) => {
      const page = serve("index.html");
      sendRaw(res, 200, page.body, page.contentType, SECURITY_HEADERS);
    })
    .on("GET", "/ui/:file", async ({ res, params }) => {
      const asset = serve(params.file!);
      sendRaw(res, 200, asset.body, asset.contentType, SECURITY_HEADERS);
    });
}
