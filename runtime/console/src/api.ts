/**
 * The admin API as the console calls it: same origin, with the admin bearer token when there is one.
 * Types come from the runtime's own RuntimeApi, so a change of the API shape fails the typecheck here.
 */
import type {
  DeploymentInfo,
  HealthInfo,
  InvocationAction,
  InvocationDetail,
  InvocationLogs,
  InvocationSummary,
  QueryResult,
  ServiceInfo,
} from "../../src/server/runtime-api";

export type {
  DeploymentInfo,
  InvocationAction,
  InvocationDetail,
  InvocationLogs,
  InvocationSummary,
  QueryResult,
  ServiceInfo,
};

const TOKEN_KEY = "capstan.adminToken";

/** A refused request: the admin API's stable code and message. */
export class ApiFailure extends Error {
  override readonly name = "ApiFailure";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function adminToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setAdminToken(token: string | null): void {
  if (token === null || token === "") sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/**
 * A link such as `/ui/#token=…` (what `capstan console` prints) hands over the token: it moves to
 * this tab's sessionStorage and out of the address bar and history. The fragment never reaches a server.
 */
export function takeTokenFromFragment(): void {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (match === null) return;
  setAdminToken(decodeURIComponent(match[1]!));
  history.replaceState(null, "", `${location.pathname}#/`);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = adminToken();
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = (json ?? {}) as { code?: string; message?: string };
    throw new ApiFailure(res.status, error.code ?? `HTTP_${res.status}`, error.message ?? res.statusText);
  }
  return json as T;
}

export interface InvocationQuery {
  service?: string;
  status?: string;
  key?: string;
  /** Created at or after / before (epoch ms or ISO 8601). */
  from?: string;
  to?: string;
  /** The `nextCursor` of the page before. */
  cursor?: string;
  limit: number;
}

export interface InvocationPage {
  invocations: InvocationSummary[];
  /** Set when the page is full: the next page starts after it. */
  nextCursor?: string;
}

const seg = encodeURIComponent;

export const api = {
  health: () => request<HealthInfo>("GET", "/health"),
  services: async () => (await request<{ services: ServiceInfo[] }>("GET", "/services")).services,
  deployments: async () =>
    (await request<{ deployments: DeploymentInfo[] }>("GET", "/deployments")).deployments,
  invocations: async (q: InvocationQuery) => {
    const params = new URLSearchParams({ limit: String(q.limit) });
    for (const k of ["service", "status", "key", "from", "to", "cursor"] as const) {
      const v = q[k];
      if (v !== undefined && v !== "") params.set(k, v);
    }
    return request<InvocationPage>("GET", `/invocations?${params}`);
  },
  invocation: (id: string) => request<InvocationDetail>("GET", `/invocations/${seg(id)}`),
  /** One page of what the handler printed, after line `after` (0: from the oldest kept). */
  logs: (id: string, after: number) =>
    request<InvocationLogs>("GET", `/invocations/${seg(id)}/logs?after=${after}`),
  act: (id: string, action: InvocationAction) =>
    request<unknown>("POST", `/invocations/${seg(id)}/${action}`),
  state: async (service: string, key: string) =>
    (await request<{ state: Record<string, unknown> }>("GET", `/state/${seg(service)}/${seg(key)}`)).state,
  patchState: (service: string, key: string, patch: { set?: Record<string, unknown>; clear?: string[] }) =>
    request<{ state: Record<string, unknown> }>("PATCH", `/state/${seg(service)}/${seg(key)}`, patch),
  query: (query: string) => request<QueryResult>("POST", "/query", { query }),
};
