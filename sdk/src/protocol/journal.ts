/**
 * Journal entries: what a handler did, in order. Entry 0 is always the input. The SDK appends entries
 * (commands); the runtime fills in their results (completions) and stamps what must not be read from a
 * handler's clock (a sleep's wake-up time). Replay matches each new command against the recorded entry
 * by kind and name/target.
 */

/** A value serialized by the handler's serde: JSON text by default. */
export type Payload = string;

/** A terminal failure as recorded in the journal. `code` follows HTTP status semantics (500 default). */
export interface Failure {
  code: number;
  message: string;
  /** Stable error name, e.g. "TerminalError", "CancelledError", "TimeoutError". */
  name?: string;
  metadata?: Record<string, string>;
}

/** The outcome of a completable entry. */
export type Completion =
  { kind: "value"; value: Payload } | { kind: "empty" } | { kind: "failure"; failure: Failure };

export interface Target {
  service: string;
  handler: string;
  /** Object key or workflow id; absent for services. */
  key?: string;
}

interface Base {
  index: number;
}

/**
 * Fields of entries that get a result. `completionOrder` is stamped by the runtime when the entry first
 * gets its result (for results the SDK produces — `run`, state read from eager state — when it records
 * the entry): per invocation, strictly increasing. Combinators (`race`, `any`, `orTimeout`) pick their
 * winner by it, so a replay picks the same winner as the original execution. Absent on entries without a
 * result and on journals recorded before it existed.
 */
interface Completable extends Base {
  result?: Completion;
  completionOrder?: number;
}

export interface InputEntry extends Base {
  kind: "input";
  value: Payload;
}
/** Appended by the runtime from the response's outcome. */
export interface OutputEntry extends Base {
  kind: "output";
  result: Completion;
}
export interface RunEntry extends Completable {
  kind: "run";
  name: string;
  result?: Completion;
}
export interface SleepEntry extends Completable {
  kind: "sleep";
  name?: string;
  durationMs: number;
  /** Stamped by the runtime when the entry is appended. */
  wakeUpAtMs?: number;
  result?: Completion;
}
export interface CallEntry extends Completable {
  kind: "call";
  target: Target;
  parameter: Payload;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  /** Stamped by the runtime when the entry is appended. */
  invocationId?: string;
  result?: Completion;
}
export interface SendEntry extends Base {
  kind: "send";
  target: Target;
  parameter: Payload;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  delayMs?: number;
  /** Stamped by the runtime when the entry is appended. */
  invocationId?: string;
}
export interface GetStateEntry extends Completable {
  kind: "getState";
  key: string;
  /** value, or empty when the key is absent. Completed by the SDK from eager state when it can. */
  result?: Completion;
}
export interface SetStateEntry extends Base {
  kind: "setState";
  key: string;
  value: Payload;
}
export interface ClearStateEntry extends Base {
  kind: "clearState";
  key: string;
}
export interface ClearAllStateEntry extends Base {
  kind: "clearAllState";
}
export interface GetStateKeysEntry extends Completable {
  kind: "getStateKeys";
  /** value: JSON array of key names. */
  result?: Completion;
}
export interface AwakeableEntry extends Completable {
  kind: "awakeable";
  name?: string;
  result?: Completion;
}
export interface CompleteAwakeableEntry extends Base {
  kind: "completeAwakeable";
  awakeableId: string;
  completion: Completion;
}
export interface PromiseGetEntry extends Completable {
  kind: "promiseGet";
  name: string;
  result?: Completion;
}
export interface PromisePeekEntry extends Completable {
  kind: "promisePeek";
  name: string;
  /** value/failure when the promise is completed, empty when not yet. */
  result?: Completion;
}
export interface PromiseCompleteEntry extends Completable {
  kind: "promiseComplete";
  name: string;
  completion: Completion;
  /** empty on success; failure (409 PROMISE_ALREADY_COMPLETED) when it was already completed. */
  result?: Completion;
}
export interface AttachEntry extends Completable {
  kind: "attach";
  invocationId: string;
  result?: Completion;
}
export interface CancelInvocationEntry extends Base {
  kind: "cancelInvocation";
  invocationId: string;
}

export type JournalEntry =
  | InputEntry
  | OutputEntry
  | RunEntry
  | SleepEntry
  | CallEntry
  | SendEntry
  | GetStateEntry
  | SetStateEntry
  | ClearStateEntry
  | ClearAllStateEntry
  | GetStateKeysEntry
  | AwakeableEntry
  | CompleteAwakeableEntry
  | PromiseGetEntry
  | PromisePeekEntry
  | PromiseCompleteEntry
  | AttachEntry
  | CancelInvocationEntry;

export type EntryKind = JournalEntry["kind"];

/** Entries whose result the handler awaits; the rest need no answer and ride along with the next message. */
export const COMPLETABLE_KINDS: ReadonlySet<EntryKind> = new Set<EntryKind>([
  "run",
  "sleep",
  "call",
  "getState",
  "getStateKeys",
  "awakeable",
  "promiseGet",
  "promisePeek",
  "promiseComplete",
  "attach",
]);

/** Entries the runtime completes (as opposed to `run`, completed by the SDK itself). */
export const RUNTIME_COMPLETED_KINDS: ReadonlySet<EntryKind> = new Set<EntryKind>([
  "sleep",
  "call",
  "getState",
  "getStateKeys",
  "awakeable",
  "promiseGet",
  "promisePeek",
  "promiseComplete",
  "attach",
]);

export function isCompletable(entry: JournalEntry): boolean {
  return COMPLETABLE_KINDS.has(entry.kind);
}

/** The name shown for an entry in errors and timelines: step name, state key, target, or kind. */
export function entryLabel(entry: JournalEntry): string {
  switch (entry.kind) {
    case "run":
    case "promiseGet":
    case "promisePeek":
    case "promiseComplete":
      return entry.name;
    case "sleep":
    case "awakeable":
      return entry.name ?? "";
    case "call":
    case "send":
      return `${entry.target.service}/${entry.target.key !== undefined ? `${entry.target.key}/` : ""}${entry.target.handler}`;
    case "getState":
    case "setState":
    case "clearState":
      return entry.key;
    case "completeAwakeable":
      return entry.awakeableId;
    case "attach":
    case "cancelInvocation":
      return entry.invocationId;
    case "input":
    case "output":
    case "clearAllState":
    case "getStateKeys":
      return "";
    default:
      return assertNever(entry);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
