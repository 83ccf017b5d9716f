import type { Completion, EntryKind, Failure, JournalEntry, Payload, Target } from "./journal";
import type { ProtocolVersion } from "./version";

/** Sent to a deployment to learn what it serves. */
export interface DiscoverRequest {
  type: "discover";
  protocolVersion: ProtocolVersion;
}

export type ServiceKind = "service" | "object" | "workflow";
/** `stateless` for service handlers; objects have exclusive/shared; workflows have one `workflow` (run) + shared. */
export type HandlerKind = "stateless" | "exclusive" | "shared" | "workflow";

/** Retry of failed attempts and of `ctx.run` bodies. Defaults follow Restate: 500 ms ×2 up to 60 s. */
export interface RetryPolicy {
  initialIntervalMs?: number;
  factor?: number;
  maxIntervalMs?: number;
  /** Attempts in total, the first included. Unbounded when absent. */
  maxAttempts?: number;
  /** Stop retrying once this long has passed since the first failure. */
  maxDurationMs?: number;
  /** What the runtime does once attempts are exhausted: pause (default, resumable by admin) or fail. */
  onMaxAttempts?: "pause" | "fail";
}

export interface HandlerOptions {
  retryPolicy?: RetryPolicy;
  /** Abort an attempt that runs longer than this (kept below Lambda's 15 minutes). */
  abortTimeoutMs?: number;
  /** How long results are kept for idempotency keys / workflow ids. */
  idempotencyRetentionMs?: number;
  journalRetentionMs?: number;
  /**
   * Not callable through the ingress (403 `INGRESS_HANDLER_PRIVATE`), only from other handlers, as
   * Restate's `ingressPrivate`. On a service it is the default of its handlers; a handler's own wins.
   */
  ingressPrivate?: boolean;
}

export interface HandlerDescription {
  name: string;
  kind: HandlerKind;
  options?: HandlerOptions;
}

export interface ServiceDescription {
  name: string;
  kind: ServiceKind;
  handlers: HandlerDescription[];
  options?: HandlerOptions;
}

export interface DiscoveryResponse {
  type: "discovery";
  protocolVersion: ProtocolVersion;
  minProtocolVersion: number;
  sdk: { name: string; version: string };
  services: ServiceDescription[];
}

/** Eager K/V state for object/workflow handlers. When `complete` is false, absent keys are fetched lazily. */
export interface EagerState {
  complete: boolean;
  values: Record<string, Payload>;
}

/** One handler attempt: runtime → SDK. */
export interface InvokeRequest {
  type: "invoke";
  protocolVersion: ProtocolVersion;
  invocationId: string;
  target: Target;
  /** 1-based attempt number of this invocation. */
  attempt: number;
  /** Fences the attempt: entries carrying another token are rejected. */
  attemptToken: string;
  headers: Record<string, string>;
  /** The journal so far; entry 0 is the input. */
  journal: JournalEntry[];
  state?: EagerState;
  /** Where to send checkpoints. Absent: request/response only (suspend at every await). */
  checkpoint?: { url: string };
  /** Retries since the last entry was recorded, for `ctx.run` retry policies. */
  retry: { attemptsSinceLastEntry: number; firstFailureAtMs?: number };
  /** Runtime clock at dispatch, for deadline decisions only (never for replayed values). */
  nowMs: number;
  /**
   * W3C `traceparent` of the runtime's span of this attempt (docs/observability.md): the SDK parents
   * its own spans on it. Absent from runtimes older than this field.
   */
  traceparent?: string;
  /**
   * The cluster's partition count, so the SDK derives the id of the invocation a send starts
   * (`childInvocationId`) as the runtime will stamp it. Absent from older runtimes: send handles
   * then have no id.
   */
  partitions?: number;
}

/** The journal entry whose step failed an attempt (a `ctx.run` body that threw), for operators. */
export interface FailedEntryRef {
  index: number;
  kind: EntryKind;
  name?: string;
}

export type Outcome =
  | { kind: "completed"; value: Payload }
  | { kind: "failed"; failure: Failure }
  | {
      kind: "retry";
      error: { message: string; name?: string; stack?: string };
      retryAfterMs?: number;
      /** The step that failed, when the failure came from one (absent: the handler's own code). */
      entry?: FailedEntryRef;
    }
  | { kind: "suspended"; awaiting: number[] };

/** The end of one attempt: SDK → runtime. `entries` are the new ones not yet checkpointed, in order. */
export interface InvokeResponse {
  type: "response";
  protocolVersion: ProtocolVersion;
  invocationId: string;
  attemptToken: string;
  entries: JournalEntry[];
  outcome: Outcome;
}

/**
 * Record new entries durably while the attempt goes on: SDK → runtime checkpoint endpoint. On the
 * wire `invocationId` and `attemptToken` travel in headers, the rest in the body
 * (checkpoint-credential.ts).
 */
export interface CheckpointRequest {
  type: "checkpoint";
  protocolVersion: ProtocolVersion;
  invocationId: string;
  attemptToken: string;
  /** New entries continuing the journal exactly; resending already-recorded identical entries is allowed. */
  entries: JournalEntry[];
  /** Indexes of entries the SDK still waits on; the ack carries the completions among them. */
  pending: number[];
  /** Long-poll: hold the ack up to this long until one of `pending` completes (≤ MAX_CHECKPOINT_WAIT_MS). */
  waitMs?: number;
}

export interface EntryCompletion {
  index: number;
  result: Completion;
  /** For sleeps and calls, runtime-stamped fields of the entry. */
  wakeUpAtMs?: number;
  invocationId?: string;
  /** The entry's `completionOrder` (see journal.ts): the ack lists completions in this order. */
  completionOrder?: number;
}

/** Sent only once the checkpoint's entries are durable in the log. */
export interface CheckpointAck {
  type: "checkpoint-ack";
  protocolVersion: ProtocolVersion;
  journalLength: number;
  completions: EntryCompletion[];
  /**
   * The `completionOrder` the runtime stamped on entries of this checkpoint that carried their result
   * (`run`, state read from eager state), so the SDK orders them against runtime completions exactly as
   * a replay will. Absent when there are none.
   */
  recordedOrders?: Array<{ index: number; completionOrder: number }>;
}

/** Error body of the checkpoint endpoint (and of ingress/admin): a stable code and a message. */
export interface ErrorBody {
  code: string;
  message: string;
}

export type RuntimeToSdk = DiscoverRequest | InvokeRequest;
export type SdkToRuntime = DiscoveryResponse | InvokeResponse;
