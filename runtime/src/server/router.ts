/**
 * A tiny path router shared by the ingress and admin servers. Patterns are `/`-separated literal or
 * `:param` segments; params are URL-decoded. Routes are tried in registration order and the first
 * pattern that matches owns the path: a method it lacks is a 405 (with `Allow`), never a fall-through
 * to a later, looser pattern.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./api-error";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the client goes away before the response is sent. */
  signal: AbortSignal;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void>;
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface Route {
  segments: string[];
  methods: Partial<Record<Method, RouteHandler>>;
}

export interface RouteMatch {
  handler: RouteHandler;
  params: Record<string, string>;
}

/**
 * @example
 * const router = new Router("ADMIN").on("GET", "/services/:name", async ({ params }) => ...);
 * router.match("GET", "/services/Greeter") // → { handler, params: { name: "Greeter" } }
 */
export class Router {
  private readonly routes: Route[] = [];

  /** `area` prefixes the router's own codes: `${area}_NOT_FOUND`, `_METHOD_NOT_ALLOWED`, `_BAD_PATH`. */
  constructor(readonly area: string) {}

  on(method: Method | Method[], pattern: string, handler: RouteHandler): this {
    const segments = splitPath(pattern);
    let route = this.routes.find((r) => r.segments.join("/") === segments.join("/"));
    if (route === undefined) {
      route = { segments, methods: {} };
      this.routes.push(route);
    }
    for (const m of Array.isArray(method) ? method : [method]) route.methods[m] = handler;
    return this;
  }

  /** Throws ApiError 404 / 405 / 400 (undecodable segment). */
  match(method: string, path: string): RouteMatch {
    const parts = splitPath(path);
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (params === undefined) continue;
      const handler = route.methods[method as Method];
      if (handler === undefined) {
        throw new MethodNotAllowed(this.area, method, Object.keys(route.methods));
      }
      try {
        for (const k of Object.keys(params)) params[k] = decodeURIComponent(params[k]!);
      } catch (e) {
        throw new ApiError(400, `${this.area}_BAD_PATH`, `cannot URL-decode path ${path}`, { cause: e });
      }
      return { handler, params };
    }
    throw new ApiError(404, `${this.area}_NOT_FOUND`, `no route for ${method} ${path}`);
  }
}

/** A 405 that carries the methods the path does allow, for the `Allow` header. */
export class MethodNotAllowed extends ApiError {
  constructor(
    area: string,
    method: string,
    readonly allow: string[],
  ) {
    super(405, `${area}_METHOD_NOT_ALLOWED`, `method ${method} not allowed; allowed: ${allow.join(", ")}`);
  }
}

/** Splits on `/`, ignoring one leading and one trailing slash; keeps inner empty segments. */
function splitPath(path: string): string[] {
  let p = path.startsWith("/") ? path.slice(1) : path;
  if (p.endsWith("/")) p = p.slice(0, -1);
  return p === "" ? [] : p.split("/");
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(":")) {
      if (v === "") return undefined;
      params[p.slice(1)] = v;
    } else if (p !== v) {
      return undefined;
    }
  }
  return params;
}
