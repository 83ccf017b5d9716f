/**
 * Decoders for every protocol message. The only place that turns untrusted JSON into protocol types:
 * each validates shape and limits and throws ProtocolError with a stable code.
 */
import { MAX_PARTITIONS } from "./invocation-ids";
import {
  CREDENTIAL_BODY_FIELDS,
  HEADER_CHECKPOINT_ATTEMPT_TOKEN,
  HEADER_CHECKPOINT_INVOCATION_ID,
  type CheckpointCredential,
} from "./checkpoint-credential";
import { ProtocolError } from "./errors";
import {
  MAX_CHECKPOINT_WAIT_MS,
  MAX_EAGER_STATE_BYTES,
  MAX_HEADERS,
  MAX_HEADERS_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_JOURNAL_ENTRIES,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_VALUE_BYTES,
} from "./limits";
import type {
  AwakeableEntry,
  Completion,
  EntryKind,
  Failure,
  JournalEntry,
  SleepEntry,
  Target,
} from "./journal";
import type {
  CheckpointAck,
  CheckpointRequest,
  DiscoverRequest,
  DiscoveryResponse,
  EagerState,
  FailedEntryRef,
  InvokeRequest,
  InvokeResponse,
  Outcome,
  ServiceDescription,
} from "./messages";
import { MAX_TRACEPARENT_LENGTH, parseTraceparent } from "./trace-context";
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from "./version";

type Obj = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new ProtocolError("PROTOCOL_INVALID_MESSAGE", `${path}: ${what}`);
}
function obj(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "expected an object");
  return v as Obj;
}
function str(v: unknown, path: string, maxLength = Number.MAX_SAFE_INTEGER): string {
  if (typeof v !== "string") fail(path, "expected a string");
  if (v.length > maxLength) {
    throw new ProtocolError("PROTOCOL_LIMIT_EXCEEDED", `${path}: longer than ${maxLength} characters`);
  }
  return v;
}
function optStr(v: unknown, path: string, maxLength?: number): string | undefined {
  return v === undefined ? undefined : str(v, path, maxLength);
}
function int(v: unknown, path: string, min = 0): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min)
    fail(path, `expected an integer ≥ ${min}`);
  return v;
}
function optInt(v: unknown, path: string, min = 0): number | undefined {
  return v === undefined ? undefined : int(v, path, min);
}
function arr(v: unknown, path: string, maxItems: number): unknown[] {
  if (!Array.isArray(v)) fail(path, "expected an array");
  if (v.length > maxItems) {
    throw new ProtocolError("PROTOCOL_LIMIT_EXCEEDED", `${path}: more than ${maxItems} items`);
  }
  return v;
}
function payload(v: unknown, path: string): string {
  const s = str(v, path);
  // Cheap upper bound first: a UTF-8 byte is at least one UTF-16 unit, at most three per unit.
  if (s.length * 3 > MAX_VALUE_BYTES && Buffer.byteLength(s, "utf8") > MAX_VALUE_BYTES) {
    throw new ProtocolError("PROTOCOL_LIMIT_EXCEEDED", `${path}: value larger than ${MAX_VALUE_BYTES} bytes`);
  }
  return s;
}
/** At most `max` summed name and value lengths (the measure the runtime bounds them by). */
function boundedTotal(map: Record<string, string>, path: string, max: number): Record<string, string> {
  let total = 0;
  for (const [k, v] of Object.entries(map)) total += k.length + v.length;
  if (total > max)
    throw new ProtocolError("PROTOCOL_LIMIT_EXCEEDED", `${path}: more than ${max} bytes in all`);
  return map;
}
function headers(v: unknown, path: string): Record<string, string> {
  return boundedTotal(stringMap(v, path, MAX_HEADERS), path, MAX_HEADERS_BYTES);
}
function stringMap(v: unknown, path: string, maxEntries: number, value = str): Record<string, string> {
  const o = obj(v, path);
  const keys = Object.keys(o);
  if (keys.length > maxEntries) {
    throw new ProtocolError("PROTOCOL_LIMIT_EXCEEDED", `${path}: more than ${maxEntries} entries`);
  }
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = value(o[k], `${path}.${k}`);
  return out;
}
/** The lowest version a peer speaks: one above PROTOCOL_VERSION means no version in common. */
function minVersion(v: unknown, path: string): number {
  const min = int(v, path, 1);
  if (min > PROTOCOL_VERSION) {
    throw new ProtocolError(
      "PROTOCOL_UNSUPPORTED_VERSION",
      `${path}: the deployment needs protocol ${min} or later; this side speaks up to ${PROTOCOL_VERSION}`,
    );
  }
  return min;
}

function version(v: unknown, path: string): typeof PROTOCOL_VERSION {
  if (typeof v !== "number" || v < MIN_PROTOCOL_VERSION || v > PROTOCOL_VERSION) {
    throw new ProtocolError(
      "PROTOCOL_UNSUPPORTED_VERSION",
      `${path}: protocol version ${String(v)} not in [${MIN_PROTOCOL_VERSION}, ${PROTOCOL_VERSION}]`,
    );
  }
  return PROTOCOL_VERSION;
}

export function decodeFailure(v: unknown, path: string): Failure {
  const o = obj(v, path);
  const f: Failure = { code: int(o.code, `${path}.code`), message: str(o.message, `${path}.message`) };
  if (o.name !== undefined) f.name = str(o.name, `${path}.name`, MAX_NAME_LENGTH);
  if (o.metadata !== undefined) f.metadata = stringMap(o.metadata, `${path}.metadata`, MAX_HEADERS);
  return f;
}

export function decodeCompletion(v: unknown, path: string): Completion {
  const o = obj(v, path);
  switch (o.kind) {
    case "value":
      return { kind: "value", value: payload(o.value, `${path}.value`) };
    case "empty":
      return { kind: "empty" };
    case "failure":
      return { kind: "failure", failure: decodeFailure(o.failure, `${path}.failure`) };
    default:
      return fail(`${path}.kind`, `unknown completion kind ${JSON.stringify(o.kind)}`);
  }
}
function optCompletion(v: unknown, path: string): Completion | undefined {
  return v === undefined ? undefined : decodeCompletion(v, path);
}

export function decodeTarget(v: unknown, path: string): Target {
  const o = obj(v, path);
  const t: Target = {
    service: str(o.service, `${path}.service`, MAX_NAME_LENGTH),
    handler: str(o.handler, `${path}.handler`, MAX_NAME_LENGTH),
  };
  if (o.key !== undefined) t.key = str(o.key, `${path}.key`, MAX_KEY_LENGTH);
  return t;
}

/** Copies only known fields, so unknown fields never reach the log. */
export function decodeEntry(v: unknown, path: string): JournalEntry {
  const o = obj(v, path);
  const index = int(o.index, `${path}.index`);
  const p = (f: string): string => `${path}.${f}`;
  const withResult = <T extends JournalEntry>(e: T): T => {
    const result = optCompletion(o.result, p("result"));
    if (result !== undefined) (e as { result?: Completion }).result = result;
    const order = optInt(o.completionOrder, p("completionOrder"));
    if (order !== undefined) (e as { completionOrder?: number }).completionOrder = order;
    return e;
  };
  switch (o.kind) {
    case "input":
      return { index, kind: "input", value: payload(o.value, p("value")) };
    case "output":
      return { index, kind: "output", result: decodeCompletion(o.result, p("result")) };
    case "run":
      return withResult({ index, kind: "run", name: str(o.name, p("name"), MAX_NAME_LENGTH) });
    case "sleep": {
      const e = withResult<SleepEntry>({
        index,
        kind: "sleep",
        durationMs: int(o.durationMs, p("durationMs")),
      });
      const name = optStr(o.name, p("name"), MAX_NAME_LENGTH);
      if (name !== undefined) e.name = name;
      const wake = optInt(o.wakeUpAtMs, p("wakeUpAtMs"));
      if (wake !== undefined) e.wakeUpAtMs = wake;
      return e;
    }
    case "call":
    case "send": {
      const common = {
        index,
        target: decodeTarget(o.target, p("target")),
        parameter: payload(o.parameter, p("parameter")),
      };
      const headerMap = o.headers === undefined ? undefined : headers(o.headers, p("headers"));
      const idempotencyKey = optStr(o.idempotencyKey, p("idempotencyKey"), MAX_IDEMPOTENCY_KEY_LENGTH);
      const invocationId = optStr(o.invocationId, p("invocationId"), MAX_NAME_LENGTH);
      const extra = {
        ...(headerMap !== undefined && { headers: headerMap }),
        ...(idempotencyKey !== undefined && { idempotencyKey }),
        ...(invocationId !== undefined && { invocationId }),
      };
      if (o.kind === "call") return withResult({ ...common, ...extra, kind: "call" });
      const delayMs = optInt(o.delayMs, p("delayMs"));
      return { ...common, ...extra, kind: "send", ...(delayMs !== undefined && { delayMs }) };
    }
    case "getState":
      return withResult({ index, kind: "getState", key: str(o.key, p("key"), MAX_NAME_LENGTH) });
    case "setState":
      return {
        index,
        kind: "setState",
        key: str(o.key, p("key"), MAX_NAME_LENGTH),
        value: payload(o.value, p("value")),
      };
    case "clearState":
      return { index, kind: "clearState", key: str(o.key, p("key"), MAX_NAME_LENGTH) };
    case "clearAllState":
      return { index, kind: "clearAllState" };
    case "getStateKeys":
      return withResult({ index, kind: "getStateKeys" });
    case "awakeable": {
      const e = withResult<AwakeableEntry>({ index, kind: "awakeable" });
      const name = optStr(o.name, p("name"), MAX_NAME_LENGTH);
      if (name !== undefined) e.name = name;
      return e;
    }
    case "completeAwakeable":
      return {
        index,
        kind: "completeAwakeable",
        awakeableId: str(o.awakeableId, p("awakeableId"), MAX_NAME_LENGTH),
        completion: decodeCompletion(o.completion, p("completion")),
      };
    case "promiseGet":
    case "promisePeek":
      return withResult({ index, kind: o.kind, name: str(o.name, p("name"), MAX_NAME_LENGTH) });
    case "promiseComplete":
      return withResult({
        index,
        kind: "promiseComplete",
        name: str(o.name, p("name"), MAX_NAME_LENGTH),
        completion: decodeCompletion(o.completion, p("completion")),
      });
    case "attach":
      return withResult({
        index,
        kind: "attach",
        invocationId: str(o.invocationId, p("invocationId"), MAX_NAME_LENGTH),
      });
    case "cancelInvocation":
      return {
        index,
        kind: "cancelInvocation",
        invocationId: str(o.invocationId, p("invocationId"), MAX_NAME_LENGTH),
      };
    default:
      return fail(p("kind"), `unknown entry kind ${JSON.stringify(o.kind)}`);
  }
}

/** Entries must be consecutive: each index one more than the one before. */
function entries(v: unknown, path: string): JournalEntry[] {
  const list = arr(v, path, MAX_JOURNAL_ENTRIES).map((e, i) => decodeEntry(e, `${path}[${i}]`));
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.index !== list[i - 1]!.index + 1) fail(`${path}[${i}].index`, "entries must be consecutive");
  }
  return list;
}

/** Parses bytes (or a string) as JSON, bounded by `maxBytes`. */
export function parseJson(body: string | Buffer, maxBytes: number): unknown {
  const size = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.length;
  if (size > maxBytes)
    throw new ProtocolError("PROTOCOL_TOO_LARGE", `message of ${size} bytes exceeds ${maxBytes}`);
  try {
    return JSON.parse(typeof body === "string" ? body : body.toString("utf8"));
  } catch (e) {
    throw new ProtocolError("PROTOCOL_BAD_JSON", "message is not valid JSON", { cause: e });
  }
}

function eagerState(v: unknown, path: string): EagerState {
  const o = obj(v, path);
  if (typeof o.complete !== "boolean") fail(`${path}.complete`, "expected a boolean");
  return {
    complete: o.complete,
    values: boundedTotal(
      stringMap(o.values, `${path}.values`, MAX_JOURNAL_ENTRIES, payload),
      `${path}.values`,
      MAX_EAGER_STATE_BYTES,
    ),
  };
}

export function decodeRuntimeToSdk(v: unknown): DiscoverRequest | InvokeRequest {
  const o = obj(v, "request");
  if (o.type === "discover")
    return { type: "discover", protocolVersion: version(o.protocolVersion, "request.protocolVersion") };
  if (o.type !== "invoke") return fail("request.type", `unknown message type ${JSON.stringify(o.type)}`);
  return decodeInvokeRequest(o);
}

export function decodeInvokeRequest(v: unknown): InvokeRequest {
  const o = obj(v, "request");
  if (o.type !== "invoke") fail("request.type", 'expected "invoke"');
  const retry = obj(o.retry, "request.retry");
  const req: InvokeRequest = {
    type: "invoke",
    protocolVersion: version(o.protocolVersion, "request.protocolVersion"),
    invocationId: str(o.invocationId, "request.invocationId", MAX_NAME_LENGTH),
    target: decodeTarget(o.target, "request.target"),
    attempt: int(o.attempt, "request.attempt", 1),
    attemptToken: str(o.attemptToken, "request.attemptToken", MAX_NAME_LENGTH),
    headers: headers(o.headers, "request.headers"),
    journal: entries(o.journal, "request.journal"),
    retry: {
      attemptsSinceLastEntry: int(retry.attemptsSinceLastEntry, "request.retry.attemptsSinceLastEntry"),
    },
    nowMs: int(o.nowMs, "request.nowMs"),
  };
  const partitions = optInt(o.partitions, "request.partitions", 1);
  if (partitions !== undefined) {
    if (partitions > MAX_PARTITIONS) fail("request.partitions", `must be at most ${MAX_PARTITIONS}`);
    req.partitions = partitions;
  }
  const first = optInt(retry.firstFailureAtMs, "request.retry.firstFailureAtMs");
  if (first !== undefined) req.retry.firstFailureAtMs = first;
  if (req.journal[0]?.kind !== "input" || req.journal[0].index !== 0)
    fail("request.journal[0]", "must be the input entry");
  if (o.state !== undefined) req.state = eagerState(o.state, "request.state");
  if (o.traceparent !== undefined) {
    const traceparent = str(o.traceparent, "request.traceparent", MAX_TRACEPARENT_LENGTH);
    if (parseTraceparent(traceparent) === undefined) fail("request.traceparent", "not a W3C traceparent");
    req.traceparent = traceparent;
  }
  if (o.checkpoint !== undefined) {
    req.checkpoint = {
      url: str(obj(o.checkpoint, "request.checkpoint").url, "request.checkpoint.url", 2048),
    };
  }
  return req;
}

function outcome(v: unknown, path: string): Outcome {
  const o = obj(v, path);
  switch (o.kind) {
    case "completed":
      return { kind: "completed", value: payload(o.value, `${path}.value`) };
    case "failed":
      return { kind: "failed", failure: decodeFailure(o.failure, `${path}.failure`) };
    case "retry": {
      const e = obj(o.error, `${path}.error`);
      const error: { message: string; name?: string; stack?: string } = {
        message: str(e.message, `${path}.error.message`),
      };
      if (e.name !== undefined) error.name = str(e.name, `${path}.error.name`, MAX_NAME_LENGTH);
      if (e.stack !== undefined) error.stack = str(e.stack, `${path}.error.stack`);
      const retryAfterMs = optInt(o.retryAfterMs, `${path}.retryAfterMs`);
      return {
        kind: "retry",
        error,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
        ...(o.entry !== undefined && { entry: failedEntryRef(o.entry, `${path}.entry`) }),
      };
    }
    case "suspended":
      return {
        kind: "suspended",
        awaiting: arr(o.awaiting, `${path}.awaiting`, MAX_JOURNAL_ENTRIES).map((x, i) =>
          int(x, `${path}.awaiting[${i}]`),
        ),
      };
    default:
      return fail(`${path}.kind`, `unknown outcome ${JSON.stringify(o.kind)}`);
  }
}

/** Every entry kind, checked exhaustively by the compiler. */
const ENTRY_KIND_NAMES: Record<EntryKind, true> = {
  input: true,
  output: true,
  run: true,
  sleep: true,
  call: true,
  send: true,
  getState: true,
  setState: true,
  clearState: true,
  clearAllState: true,
  getStateKeys: true,
  awakeable: true,
  completeAwakeable: true,
  promiseGet: true,
  promisePeek: true,
  promiseComplete: true,
  attach: true,
  cancelInvocation: true,
};
const ENTRY_KINDS: ReadonlySet<string> = new Set(Object.keys(ENTRY_KIND_NAMES));

function failedEntryRef(v: unknown, path: string): FailedEntryRef {
  const o = obj(v, path);
  const kind = str(o.kind, `${path}.kind`, MAX_NAME_LENGTH);
  if (!ENTRY_KINDS.has(kind)) fail(`${path}.kind`, `unknown entry kind ${JSON.stringify(kind)}`);
  const name = optStr(o.name, `${path}.name`, MAX_NAME_LENGTH);
  return {
    index: int(o.index, `${path}.index`),
    kind: kind as EntryKind,
    ...(name !== undefined && { name }),
  };
}

export function decodeInvokeResponse(v: unknown): InvokeResponse {
  const o = obj(v, "response");
  if (o.type !== "response") fail("response.type", 'expected "response"');
  return {
    type: "response",
    protocolVersion: version(o.protocolVersion, "response.protocolVersion"),
    invocationId: str(o.invocationId, "response.invocationId", MAX_NAME_LENGTH),
    attemptToken: str(o.attemptToken, "response.attemptToken", MAX_NAME_LENGTH),
    entries: entries(o.entries, "response.entries"),
    outcome: outcome(o.outcome, "response.outcome"),
  };
}

/**
 * The checkpoint body, with the credential its headers carried (checkpoint-credential.ts). A body
 * that still holds the credential (the earlier form) is refused: it is never read as a fallback.
 */
export function decodeCheckpointRequest(v: unknown, credential: CheckpointCredential): CheckpointRequest {
  const o = obj(v, "checkpoint");
  for (const field of CREDENTIAL_BODY_FIELDS) {
    if (field in o)
      fail(
        `checkpoint.${field}`,
        `not allowed in the body: the attempt credential goes in the ${HEADER_CHECKPOINT_INVOCATION_ID} and ` +
          `${HEADER_CHECKPOINT_ATTEMPT_TOKEN} headers (update @capstan/sdk to the runtime's version)`,
      );
  }
  if (o.type !== "checkpoint") fail("checkpoint.type", 'expected "checkpoint"');
  const req: CheckpointRequest = {
    type: "checkpoint",
    protocolVersion: version(o.protocolVersion, "checkpoint.protocolVersion"),
    invocationId: str(credential.invocationId, "checkpoint.invocationId", MAX_NAME_LENGTH),
    attemptToken: str(credential.attemptToken, "checkpoint.attemptToken", MAX_NAME_LENGTH),
    entries: entries(o.entries, "checkpoint.entries"),
    pending: arr(o.pending, "checkpoint.pending", MAX_JOURNAL_ENTRIES).map((x, i) =>
      int(x, `checkpoint.pending[${i}]`),
    ),
  };
  const waitMs = optInt(o.waitMs, "checkpoint.waitMs");
  if (waitMs !== undefined) {
    if (waitMs > MAX_CHECKPOINT_WAIT_MS) {
      throw new ProtocolError(
        "PROTOCOL_LIMIT_EXCEEDED",
        `checkpoint.waitMs: more than ${MAX_CHECKPOINT_WAIT_MS}`,
      );
    }
    req.waitMs = waitMs;
  }
  return req;
}

export function decodeCheckpointAck(v: unknown): CheckpointAck {
  const o = obj(v, "ack");
  if (o.type !== "checkpoint-ack") fail("ack.type", 'expected "checkpoint-ack"');
  return {
    type: "checkpoint-ack",
    protocolVersion: version(o.protocolVersion, "ack.protocolVersion"),
    journalLength: int(o.journalLength, "ack.journalLength"),
    completions: arr(o.completions, "ack.completions", MAX_JOURNAL_ENTRIES).map((c, i) => {
      const co = obj(c, `ack.completions[${i}]`);
      const wake = optInt(co.wakeUpAtMs, `ack.completions[${i}].wakeUpAtMs`);
      const id = optStr(co.invocationId, `ack.completions[${i}].invocationId`, MAX_NAME_LENGTH);
      const order = optInt(co.completionOrder, `ack.completions[${i}].completionOrder`);
      return {
        index: int(co.index, `ack.completions[${i}].index`),
        result: decodeCompletion(co.result, `ack.completions[${i}].result`),
        ...(wake !== undefined && { wakeUpAtMs: wake }),
        ...(id !== undefined && { invocationId: id }),
        ...(order !== undefined && { completionOrder: order }),
      };
    }),
    ...(o.recordedOrders !== undefined && {
      recordedOrders: arr(o.recordedOrders, "ack.recordedOrders", MAX_JOURNAL_ENTRIES).map((r, i) => {
        const ro = obj(r, `ack.recordedOrders[${i}]`);
        return {
          index: int(ro.index, `ack.recordedOrders[${i}].index`),
          completionOrder: int(ro.completionOrder, `ack.recordedOrders[${i}].completionOrder`),
        };
      }),
    }),
  };
}

const SERVICE_KINDS = new Set(["service", "object", "workflow"]);
const HANDLER_KINDS = new Set(["stateless", "exclusive", "shared", "workflow"]);

/** Options pass through as reported; the ones that decide access are checked for their type. */
function handlerOptions(v: unknown, path: string): Obj {
  const o = obj(v, path);
  if (o.ingressPrivate !== undefined && typeof o.ingressPrivate !== "boolean")
    fail(`${path}.ingressPrivate`, "expected a boolean");
  return o;
}

export function decodeDiscoveryResponse(v: unknown): DiscoveryResponse {
  const o = obj(v, "discovery");
  if (o.type !== "discovery") fail("discovery.type", 'expected "discovery"');
  const sdk = obj(o.sdk, "discovery.sdk");
  return {
    type: "discovery",
    protocolVersion: version(o.protocolVersion, "discovery.protocolVersion"),
    minProtocolVersion: minVersion(o.minProtocolVersion, "discovery.minProtocolVersion"),
    sdk: {
      name: str(sdk.name, "discovery.sdk.name", MAX_NAME_LENGTH),
      version: str(sdk.version, "discovery.sdk.version", MAX_NAME_LENGTH),
    },
    services: arr(o.services, "discovery.services", 1000).map((s, i): ServiceDescription => {
      const so = obj(s, `discovery.services[${i}]`);
      const kind = str(so.kind, `discovery.services[${i}].kind`);
      if (!SERVICE_KINDS.has(kind)) fail(`discovery.services[${i}].kind`, `unknown service kind ${kind}`);
      return {
        name: str(so.name, `discovery.services[${i}].name`, MAX_NAME_LENGTH),
        kind: kind as ServiceDescription["kind"],
        handlers: arr(so.handlers, `discovery.services[${i}].handlers`, 1000).map((h, j) => {
          const ho = obj(h, `discovery.services[${i}].handlers[${j}]`);
          const hk = str(ho.kind, `discovery.services[${i}].handlers[${j}].kind`);
          if (!HANDLER_KINDS.has(hk))
            fail(`discovery.services[${i}].handlers[${j}].kind`, `unknown handler kind ${hk}`);
          return {
            name: str(ho.name, `discovery.services[${i}].handlers[${j}].name`, MAX_NAME_LENGTH),
            kind: hk as ServiceDescription["handlers"][number]["kind"],
            ...(ho.options !== undefined && {
              options: handlerOptions(ho.options, `discovery.services[${i}].handlers[${j}].options`),
            }),
          };
        }),
        ...(so.options !== undefined && {
          options: handlerOptions(so.options, `discovery.services[${i}].options`),
        }),
      };
    }),
  };
}

export { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES };
