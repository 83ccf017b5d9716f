/**
 * Validation of admin request bodies and query strings: untrusted JSON in, RuntimeApi arguments out.
 * Every refusal is an ApiError 400 with an `ADMIN_` code.
 */
import { MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_VALUE_BYTES, type Payload } from "@capstan/sdk/protocol";
import type { DeploymentEndpoint } from "../invoker/invoker";
import type { InvocationStatus } from "../core/state";
import { ApiError } from "./api-error";
import { decodeListCursor } from "../api/invocation-list-order";
import { jsonDepthExceeds } from "./json-depth";
import {
  DEFAULT_LIST_LIMIT,
  DEFAULT_LOG_PAGE_LINES,
  MAX_DEPLOYMENT_ENDPOINT_LENGTH,
  MAX_JSON_DEPTH,
  MAX_LIST_LIMIT,
  MAX_LOG_PAGE_LINES,
  MAX_QUERY_LENGTH,
  MAX_STATE_PATCH_KEYS,
} from "./limits";
import type { InvocationAction, InvocationFilter, InvocationLogsQuery, StatePatch } from "./runtime-api";

const STATUS_LIST = {
  scheduled: true,
  inboxed: true,
  running: true,
  suspended: true,
  "backing-off": true,
  paused: true,
  completed: true,
} satisfies Record<InvocationStatus, true>;
export const INVOCATION_STATUSES = Object.keys(STATUS_LIST) as InvocationStatus[];

const ACTION_LIST = {
  cancel: true,
  kill: true,
  pause: true,
  resume: true,
  purge: true,
} satisfies Record<InvocationAction, true>;
export const INVOCATION_ACTIONS = Object.keys(ACTION_LIST) as InvocationAction[];

/** A Lambda function name or ARN, optionally qualified (`:version` / `:alias`). */
const LAMBDA_FUNCTION =
  /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,140}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;

function bad(code: string, message: string): ApiError {
  return new ApiError(400, code, message);
}

function object(body: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw bad("ADMIN_INVALID_BODY", "expected a JSON object body");
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw bad("ADMIN_INVALID_BODY", `unknown field(s): ${unknown.join(", ")}`);
  return body as Record<string, unknown>;
}

/** `{ uri }` (HTTP deployment) or `{ arn }` (Lambda name or ARN), optional `force` (default false). */
export function parseRegisterDeployment(body: unknown): { endpoint: DeploymentEndpoint; force: boolean } {
  const o = object(body, ["uri", "arn", "force"]);
  if (o.force !== undefined && typeof o.force !== "boolean") {
    throw bad("ADMIN_INVALID_BODY", "force must be a boolean");
  }
  const force = o.force === true;
  if ((o.uri === undefined) === (o.arn === undefined)) {
    throw bad("ADMIN_INVALID_DEPLOYMENT", "give exactly one of uri (HTTP deployment) or arn (Lambda)");
  }
  const value = o.uri ?? o.arn;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_DEPLOYMENT_ENDPOINT_LENGTH) {
    throw bad(
      "ADMIN_INVALID_DEPLOYMENT",
      `uri/arn must be a string of 1..${MAX_DEPLOYMENT_ENDPOINT_LENGTH} characters`,
    );
  }
  if (o.uri !== undefined) {
    let url: URL;
    try {
      url = new URL(value);
    } catch (e) {
      throw new ApiError(400, "ADMIN_INVALID_DEPLOYMENT", `not a URL: ${value}`, { cause: e });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw bad("ADMIN_INVALID_DEPLOYMENT", `uri must be http(s), got ${url.protocol}`);
    }
    return { endpoint: { kind: "http", url: value }, force };
  }
  if (!LAMBDA_FUNCTION.test(value)) {
    throw bad("ADMIN_INVALID_DEPLOYMENT", `not a Lambda function name or ARN: ${value}`);
  }
  return { endpoint: { kind: "lambda", arn: value }, force };
}

export function validateName(name: string, what: string): string {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw bad("ADMIN_INVALID_NAME", `${what} must be 1..${MAX_NAME_LENGTH} characters`);
  }
  return name;
}

export function validateKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw bad("ADMIN_INVALID_KEY", `key must be 1..${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

/**
 * `?service=&status=&key=&from=&to=&cursor=&limit=` (status also succeeded|failed: completed with that
 * outcome; from/to: creation time, epoch ms or ISO 8601, from inclusive, to exclusive; cursor: a
 * `nextCursor` of an earlier page; limit default DEFAULT_LIST_LIMIT, at most MAX_LIST_LIMIT).
 */
export function parseInvocationFilter(query: URLSearchParams): InvocationFilter {
  const filter: InvocationFilter = { limit: DEFAULT_LIST_LIMIT };
  const service = query.get("service");
  if (service !== null) filter.service = validateName(service, "service");
  const key = query.get("key");
  if (key !== null) filter.key = validateKey(key);
  const status = query.get("status");
  if (status === "succeeded" || status === "failed") {
    // What `list` shows as "completed (failed)": filtering on what users read.
    filter.status = "completed";
    filter.outcome = status;
  } else if (status !== null) {
    if (!(INVOCATION_STATUSES as string[]).includes(status)) {
      throw bad(
        "ADMIN_INVALID_STATUS",
        `status must be one of ${[...INVOCATION_STATUSES, "succeeded", "failed"].join(", ")}`,
      );
    }
    filter.status = status as InvocationStatus;
  }
  const limit = query.get("limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_LIST_LIMIT) {
      throw bad("ADMIN_INVALID_LIMIT", `limit must be an integer in 1..${MAX_LIST_LIMIT}`);
    }
    filter.limit = n;
  }
  const from = query.get("from");
  if (from !== null) filter.createdFromMs = parseTime(from, "from");
  const to = query.get("to");
  if (to !== null) filter.createdToMs = parseTime(to, "to");
  const cursor = query.get("cursor");
  if (cursor !== null) {
    const after = decodeListCursor(cursor);
    if (after === undefined) {
      throw bad("ADMIN_INVALID_CURSOR", "cursor is not a nextCursor of GET /invocations");
    }
    filter.after = after;
  }
  return filter;
}

/** A point in time of a query parameter: epoch milliseconds or an ISO 8601 date-time. */
function parseTime(raw: string, what: string): number {
  const ms = /^\d{1,16}$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw bad("ADMIN_INVALID_TIME", `${what} must be epoch milliseconds or an ISO 8601 date-time`);
  }
  return ms;
}

/** A non-negative safe integer from a query parameter, else 400 with `code`. */
function queryInteger(raw: string, min: number, max: number, code: string, what: string): number {
  const n = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || n < min || n > max) {
    throw bad(code, `${what} must be an integer in ${min}..${max}`);
  }
  return n;
}

/** `?after=&limit=` of `GET /invocations/:id/logs` (after: a line's `seq`; limit ≤ MAX_LOG_PAGE_LINES). */
export function parseLogsQuery(query: URLSearchParams): InvocationLogsQuery {
  const after = query.get("after");
  const limit = query.get("limit");
  return {
    afterSeq:
      after === null ? 0 : queryInteger(after, 0, Number.MAX_SAFE_INTEGER, "ADMIN_INVALID_CURSOR", "after"),
    limit:
      limit === null
        ? DEFAULT_LOG_PAGE_LINES
        : queryInteger(limit, 1, MAX_LOG_PAGE_LINES, "ADMIN_INVALID_LIMIT", "limit"),
  };
}

/** `{ set?: { key: any JSON }, clear?: string[], clearAll?: boolean }`; values become JSON text. */
export function parseStatePatch(body: unknown): StatePatch {
  const o = object(body, ["set", "clear", "clearAll"]);
  const patch: StatePatch = { set: {}, clear: [], clearAll: false };
  if (o.clearAll !== undefined) {
    if (typeof o.clearAll !== "boolean") throw bad("ADMIN_INVALID_BODY", "clearAll must be a boolean");
    patch.clearAll = o.clearAll;
  }
  if (o.set !== undefined) {
    if (typeof o.set !== "object" || o.set === null || Array.isArray(o.set)) {
      throw bad("ADMIN_INVALID_BODY", "set must be an object of key → JSON value");
    }
    for (const [k, v] of Object.entries(o.set)) {
      const value: Payload = JSON.stringify(v);
      if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES) {
        throw bad(
          "ADMIN_STATE_VALUE_TOO_LARGE",
          `value of ${JSON.stringify(k)} is larger than ${MAX_VALUE_BYTES} bytes`,
        );
      }
      patch.set[stateKey(k)] = value;
    }
  }
  if (o.clear !== undefined) {
    if (!Array.isArray(o.clear) || !o.clear.every((k) => typeof k === "string")) {
      throw bad("ADMIN_INVALID_BODY", "clear must be an array of state keys");
    }
    patch.clear = o.clear.map(stateKey);
  }
  if (Object.keys(patch.set).length + patch.clear.length > MAX_STATE_PATCH_KEYS) {
    throw bad("ADMIN_INVALID_BODY", `a patch sets or clears at most ${MAX_STATE_PATCH_KEYS} keys`);
  }
  return patch;
}

function stateKey(k: string): string {
  if (k.length === 0 || k.length > MAX_NAME_LENGTH) {
    throw bad("ADMIN_INVALID_STATE_KEY", `state keys must be 1..${MAX_NAME_LENGTH} characters`);
  }
  return k;
}

/**
 * State values are JSON text by default; anything else — or JSON nested deeper than MAX_JSON_DEPTH,
 * which a handler may have stored and the reply could not serialize — is shown as the raw string.
 */
export function decodeStateValues(state: Record<string, Payload>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    if (jsonDepthExceeds(v, MAX_JSON_DEPTH)) {
      out[k] = v;
      continue;
    }
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** `resume`'s deployment: `{ deployment }` in the body or `?deployment=`; neither: stay. */
export function parseResumeRequest(body: unknown, query: URLSearchParams): string | undefined {
  const fromBody = body === undefined ? undefined : object(body, ["deployment"]).deployment;
  const deployment = fromBody ?? query.get("deployment") ?? undefined;
  if (deployment === undefined) return undefined;
  if (typeof deployment !== "string" || deployment.length === 0 || deployment.length > MAX_NAME_LENGTH) {
    throw bad("ADMIN_INVALID_BODY", `deployment must be "latest" or a deployment id`);
  }
  return deployment;
}

/** `{ query: "SELECT ..." }`. */
export function parseQueryBody(body: unknown): string {
  const o = object(body, ["query"]);
  if (typeof o.query !== "string" || o.query.trim() === "" || o.query.length > MAX_QUERY_LENGTH) {
    throw bad(
      "ADMIN_INVALID_QUERY",
      `query must be a non-empty string of at most ${MAX_QUERY_LENGTH} characters`,
    );
  }
  return o.query;
}
