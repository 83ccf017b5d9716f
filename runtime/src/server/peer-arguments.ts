/**
 * The arguments of a forwarded call (peer listener, cluster/peer-protocol.ts), checked on the
 * receiving node with the same named limits the public routes enforce where the request entered the
 * cluster: names, keys, idempotency keys, headers, payload sizes, page sizes, state patches. The
 * sending node is authenticated, but it is another process (perhaps another version): the receiver
 * never relies on it for bounds. A value of the wrong type is 400 PEER_BAD_REQUEST; a value outside a
 * limit is 400 PEER_INVALID_ARGUMENT naming the limit. Each argument is rebuilt from its known fields
 * only, so nothing the public routes would not have produced reaches the runtime.
 */
import {
  decodeCompletion,
  isInvocationId,
  isProtocolError,
  MAX_HEADERS,
  MAX_HEADERS_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PARTITIONS,
  MAX_VALUE_BYTES,
  parseAwakeableId,
  type Completion,
  type Target,
} from "@capstan/sdk/protocol";
import type { PeerMethod } from "../cluster/peer-protocol";
import type { InvocationStatus } from "../core/state";
import type { RecordInput } from "../partition/partition-processor";
import { INVOCATION_ACTIONS, INVOCATION_STATUSES } from "./admin-request";
import { ApiError } from "./api-error";
import {
  MAX_DELAY_MS,
  MAX_INGRESS_BODY_BYTES,
  MAX_LIST_LIMIT,
  MAX_LOG_PAGE_LINES,
  MAX_STATE_PATCH_KEYS,
} from "./limits";
import type { InvocationFilter, InvocationLogsQuery, StatePatch, SubmitRequest } from "./runtime-api";

export const PEER_BAD_REQUEST = "PEER_BAD_REQUEST";
export const PEER_INVALID_ARGUMENT = "PEER_INVALID_ARGUMENT";

/** Printable ASCII, as the ingress requires of an idempotency key. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** The outbox messages one node appends on another's partition (core/state.ts OutboxMessage). */
const DELIVERY_KINDS: ReadonlySet<string> = new Set([
  "invoke",
  "invoke-refused",
  "complete-entry",
  "attach",
  "cancel",
  "kill",
]);

type Obj = Record<string, unknown>;

function badType(what: string, expected: string): ApiError {
  return new ApiError(400, PEER_BAD_REQUEST, `${what} must be ${expected}`);
}

function outOfBounds(what: string, limit: string): ApiError {
  return new ApiError(400, PEER_INVALID_ARGUMENT, `${what}: ${limit}`);
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw badType(what, "an object");
  return v as Obj;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw badType(what, "a string");
  return v;
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number") throw badType(what, "a number");
  if (!Number.isSafeInteger(v) || v < min || v > max) throw outOfBounds(what, `an integer in ${min}..${max}`);
  return v;
}

function bounded(v: unknown, what: string, maxLength: number): string {
  const s = str(v, what);
  if (s.length === 0 || s.length > maxLength) throw outOfBounds(what, `1..${maxLength} characters`);
  return s;
}

const name = (v: unknown, what: string): string => bounded(v, what, MAX_NAME_LENGTH);
const key = (v: unknown, what: string): string => bounded(v, what, MAX_KEY_LENGTH);

function invocationId(v: unknown, what: string): string {
  const s = str(v, what);
  if (!isInvocationId(s)) throw outOfBounds(what, "not an invocation id");
  return s;
}

function payload(v: unknown, what: string, maxBytes: number): string {
  const s = str(v, what);
  if (Buffer.byteLength(s, "utf8") > maxBytes) throw outOfBounds(what, `larger than ${maxBytes} bytes`);
  return s;
}

function target(v: unknown, what: string): Target {
  const o = obj(v, what);
  const t: Target = {
    service: name(o.service, `${what}.service`),
    handler: name(o.handler, `${what}.handler`),
  };
  if (o.key !== undefined) t.key = key(o.key, `${what}.key`);
  return t;
}

function idempotencyKey(v: unknown, what: string): string {
  const s = bounded(v, what, MAX_IDEMPOTENCY_KEY_LENGTH);
  if (!PRINTABLE_ASCII.test(s)) throw outOfBounds(what, "printable ASCII only");
  return s;
}

/** Bounded as the ingress bounds what it forwards: entries, and latin1 bytes of names plus values. */
function headers(v: unknown, what: string): Record<string, string> {
  const o = obj(v, what);
  const entries = Object.entries(o);
  if (entries.length > MAX_HEADERS) throw outOfBounds(what, `more than ${MAX_HEADERS} headers`);
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [k, raw] of entries) {
    const value = str(raw, `${what}.${k}`);
    bytes += Buffer.byteLength(k, "latin1") + Buffer.byteLength(value, "latin1");
    out[k] = value;
  }
  if (bytes > MAX_HEADERS_BYTES) throw outOfBounds(what, `more than ${MAX_HEADERS_BYTES} bytes of headers`);
  return out;
}

function submitRequest(v: unknown, what: string): SubmitRequest {
  const o = obj(v, what);
  const request: SubmitRequest = {
    target: target(o.target, `${what}.target`),
    input: payload(o.input, `${what}.input`, MAX_INGRESS_BODY_BYTES),
    headers: headers(o.headers, `${what}.headers`),
  };
  if (o.idempotencyKey !== undefined)
    request.idempotencyKey = idempotencyKey(o.idempotencyKey, `${what}.idempotencyKey`);
  if (o.delayMs !== undefined) request.delayMs = int(o.delayMs, `${what}.delayMs`, 0, MAX_DELAY_MS);
  return request;
}

/** An awakeable's completion as the ingress builds it: a value or a failure, each at most one body. */
function completion(v: unknown, what: string): Completion {
  let c: Completion;
  try {
    c = decodeCompletion(v, what);
  } catch (e) {
    if (isProtocolError(e)) throw new ApiError(400, PEER_INVALID_ARGUMENT, e.message, { cause: e });
    throw e;
  }
  if (c.kind === "value") payload(c.value, `${what}.value`, MAX_INGRESS_BODY_BYTES);
  if (c.kind === "failure") payload(c.failure.message, `${what}.failure.message`, MAX_INGRESS_BODY_BYTES);
  return c;
}

function awakeableId(v: unknown, what: string): string {
  const s = str(v, what);
  try {
    parseAwakeableId(s);
  } catch (e) {
    throw new ApiError(400, PEER_INVALID_ARGUMENT, `${what}: not an awakeable id`, { cause: e });
  }
  return s;
}

/** The admin API reads one row past a page (`limit + 1`) to know whether a cursor follows. */
const MAX_FORWARDED_LIST_LIMIT = MAX_LIST_LIMIT + 1;

function invocationFilter(v: unknown, what: string): InvocationFilter {
  const o = obj(v, what);
  const filter: InvocationFilter = { limit: int(o.limit, `${what}.limit`, 1, MAX_FORWARDED_LIST_LIMIT) };
  if (o.service !== undefined) filter.service = name(o.service, `${what}.service`);
  if (o.key !== undefined) filter.key = key(o.key, `${what}.key`);
  if (o.status !== undefined) {
    const status = str(o.status, `${what}.status`);
    if (!(INVOCATION_STATUSES as string[]).includes(status))
      throw outOfBounds(`${what}.status`, `one of ${INVOCATION_STATUSES.join(", ")}`);
    filter.status = status as InvocationStatus;
  }
  if (o.outcome !== undefined) {
    if (o.outcome !== "succeeded" && o.outcome !== "failed")
      throw outOfBounds(`${what}.outcome`, "succeeded or failed");
    filter.outcome = o.outcome;
  }
  if (o.createdFromMs !== undefined)
    filter.createdFromMs = int(o.createdFromMs, `${what}.createdFromMs`, 0, Number.MAX_SAFE_INTEGER);
  if (o.createdToMs !== undefined)
    filter.createdToMs = int(o.createdToMs, `${what}.createdToMs`, 0, Number.MAX_SAFE_INTEGER);
  if (o.after !== undefined) {
    const after = obj(o.after, `${what}.after`);
    filter.after = {
      createdAtMs: int(after.createdAtMs, `${what}.after.createdAtMs`, 0, Number.MAX_SAFE_INTEGER),
      id: invocationId(after.id, `${what}.after.id`),
    };
  }
  return filter;
}

function logsQuery(v: unknown, what: string): InvocationLogsQuery {
  const o = obj(v, what);
  return {
    afterSeq: int(o.afterSeq, `${what}.afterSeq`, 0, Number.MAX_SAFE_INTEGER),
    limit: int(o.limit, `${what}.limit`, 1, MAX_LOG_PAGE_LINES),
  };
}

function statePatch(v: unknown, what: string): StatePatch {
  const o = obj(v, what);
  const set = obj(o.set, `${what}.set`);
  if (!Array.isArray(o.clear)) throw badType(`${what}.clear`, "an array");
  if (typeof o.clearAll !== "boolean") throw badType(`${what}.clearAll`, "a boolean");
  if (Object.keys(set).length + o.clear.length > MAX_STATE_PATCH_KEYS)
    throw outOfBounds(what, `sets or clears at most ${MAX_STATE_PATCH_KEYS} keys`);
  const patch: StatePatch = { set: {}, clear: [], clearAll: o.clearAll };
  for (const [k, value] of Object.entries(set))
    patch.set[name(k, `${what}.set key`)] = payload(value, `${what}.set.${k}`, MAX_VALUE_BYTES);
  patch.clear = o.clear.map((k) => name(k, `${what}.clear key`));
  return patch;
}

function resumeOptions(v: unknown, what: string): { deployment?: string } {
  if (v === undefined || v === null) return {}; // JSON carries an absent last argument as null
  const o = obj(v, what);
  return o.deployment === undefined ? {} : { deployment: name(o.deployment, `${what}.deployment`) };
}

/** What each method's arguments are checked (and rebuilt) with. */
const CHECKS: Record<PeerMethod, ReadonlyArray<(v: unknown, what: string) => unknown>> = {
  submit: [submitRequest],
  call: [submitRequest],
  awaitResult: [invocationId],
  output: [invocationId],
  workflowInvocation: [name, key],
  idempotentInvocation: [target, idempotencyKey],
  completeAwakeable: [awakeableId, completion],
  // The credential and body are checked as on the checkpoint listener (authenticateCheckpoint and
  // decodeCheckpointRequest, with the protocol's limits); here only their types.
  checkpoint: [str, str, obj],
  listLedInvocations: [invocationFilter],
  describeInvocation: [invocationId],
  invocationLogs: [invocationId, logsQuery],
  invocationAction: [
    invocationId,
    (v, what) => {
      const action = str(v, what);
      if (!(INVOCATION_ACTIONS as string[]).includes(action))
        throw outOfBounds(what, `one of ${INVOCATION_ACTIONS.join(", ")}`);
      return action;
    },
  ],
  resumeInvocation: [invocationId, resumeOptions],
  restartRequest: [invocationId],
  getState: [name, key],
  patchState: [name, key, statePatch],
  // Bounded by decodeSqlPageRequest (cluster/sql-rows-page.ts), which knows the partition count.
  sqlRowsPage: [obj],
};

/**
 * The arguments of `method`, checked and rebuilt; throws ApiError 400 (PEER_BAD_REQUEST for a wrong
 * count or type, PEER_INVALID_ARGUMENT for a value outside a limit).
 *
 * @example
 * const [request] = checkPeerArguments("submit", body.args); // a SubmitRequest within the ingress's limits
 */
export function checkPeerArguments(method: PeerMethod, args: readonly unknown[]): unknown[] {
  const checks = CHECKS[method];
  if (args.length > checks.length)
    throw new ApiError(400, PEER_BAD_REQUEST, `${method} takes ${checks.length} arguments`);
  return checks.map((check, i) => check(args[i], `${method}: argument ${i + 1}`));
}

/**
 * An outbox record appended on this node by another (PEER_APPEND_PATH): one of the delivered kinds,
 * for an existing partition, carrying its origin (producer partition and seq) for deduplication.
 */
export function checkDeliveredRecord(
  partition: unknown,
  record: unknown,
): { partition: number; record: RecordInput } {
  if (typeof partition !== "number") throw badType("partition", "a partition number");
  int(partition, "partition", 0, MAX_PARTITIONS - 1);
  const o = obj(record, "record");
  const kind = str(o.kind, "record.kind");
  if (!DELIVERY_KINDS.has(kind)) throw outOfBounds("record.kind", `one of ${[...DELIVERY_KINDS].join(", ")}`);
  const origin = obj(o.origin, "record.origin");
  int(origin.partition, "record.origin.partition", 0, MAX_PARTITIONS - 1);
  int(origin.seq, "record.origin.seq", 0, Number.MAX_SAFE_INTEGER);
  if (o.invocationId !== undefined) invocationId(o.invocationId, "record.invocationId");
  return { partition, record: o as unknown as RecordInput };
}
