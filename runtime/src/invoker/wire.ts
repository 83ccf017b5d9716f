/**
 * What both network invokers share: limits, the attempt's deadline, request encoding and response
 * decoding, each failure turned into an InvokeError by the one classifier.
 */
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, isProtocolError, parseJson } from "@capstan/sdk/protocol";
import type { RuntimeToSdk } from "@capstan/sdk/protocol";
import { classifyInvokeFailure } from "./classify";
import type { InvokeFailure } from "./classify";
import { Semaphore, SemaphoreFullError } from "./semaphore";
import type { RequestSigner } from "../security/request-signer";

/** Attempts one invoker has in flight at once (sockets to Lambda or to one container fleet). */
export const DEFAULT_MAX_CONCURRENT_INVOKES = 256;
/** Attempts waiting for a slot; beyond it an attempt fails at once as INVOKE_THROTTLED (retryable). */
export const DEFAULT_MAX_WAITING_INVOKES = 10_000;
/**
 * Safety net on one attempt, on top of the caller's signal (which carries the handler's abort
 * timeout): Lambda stops a function at 15 minutes and reports it as a FunctionError, so we wait a
 * little longer to receive that report rather than cut it off.
 */
export const DEFAULT_INVOKE_TIMEOUT_MS = 15 * 60_000 + 30_000;

export interface InvokerLimits {
  /** Signs every message sent (request identity); absent: messages go unsigned. */
  identity?: RequestSigner;
  /** Default DEFAULT_MAX_CONCURRENT_INVOKES. */
  maxConcurrency?: number;
  /** Default DEFAULT_MAX_WAITING_INVOKES. */
  maxWaiting?: number;
  /** Default DEFAULT_INVOKE_TIMEOUT_MS. */
  requestTimeoutMs?: number;
}

/** Runs `send` under the invoker's concurrency bound and deadline; classifies a rejected wait. */
export class AttemptGate {
  readonly slots: Semaphore;
  private readonly timeoutMs: number;

  constructor(limits: InvokerLimits) {
    this.slots = new Semaphore(
      limits.maxConcurrency ?? DEFAULT_MAX_CONCURRENT_INVOKES,
      limits.maxWaiting ?? DEFAULT_MAX_WAITING_INVOKES,
    );
    this.timeoutMs = limits.requestTimeoutMs ?? DEFAULT_INVOKE_TIMEOUT_MS;
  }

  async run<T>(signal: AbortSignal, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    // A timer cleared when the attempt ends, not AbortSignal.timeout: at thousands of attempts per
    // second, 15-minute timers that outlive their attempts would pile up.
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(
      () => attempt.abort(new DOMException(`attempt exceeded ${this.timeoutMs} ms`, "TimeoutError")),
      this.timeoutMs,
    );
    try {
      let release: () => void;
      try {
        release = await this.slots.acquire(attempt.signal);
      } catch (e) {
        if (e instanceof SemaphoreFullError)
          throw classifyInvokeFailure({ kind: "overloaded", waiting: e.waiting });
        throw classifyInvokeFailure({ kind: "aborted", reason: e });
      }
      try {
        return await send(attempt.signal);
      } finally {
        release();
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/**
 * JSON bytes of a protocol message, signed with the node's identity when a signer is given (request
 * identity); a request over MAX_REQUEST_BYTES is never sent.
 */
export function encodeRequest(message: RuntimeToSdk, signer?: RequestSigner): Buffer {
  const json = JSON.stringify(message);
  const bytes = Buffer.from(signer === undefined ? json : signer.sign(message, json), "utf8");
  if (bytes.length > MAX_REQUEST_BYTES) {
    throw classifyInvokeFailure({
      kind: "request-too-large",
      sizeBytes: bytes.length,
      limitBytes: MAX_REQUEST_BYTES,
    });
  }
  return bytes;
}

/** Parses (bounded by MAX_RESPONSE_BYTES) and decodes a response; a ProtocolError is INVOKE_BAD_RESPONSE. */
export function decodeResponse<T>(body: Buffer | Uint8Array, decode: (v: unknown) => T): T {
  try {
    return decode(parseJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength), MAX_RESPONSE_BYTES));
  } catch (e) {
    if (isProtocolError(e)) throw classifyInvokeFailure({ kind: "bad-response", error: e });
    throw e;
  }
}

/** Turns what a send threw into an InvokeFailure when the adapter did not classify it itself. */
export function failureOf(e: unknown, signal: AbortSignal): InvokeFailure {
  if (signal.aborted) return { kind: "aborted", reason: signal.reason };
  const name = (e as { name?: unknown } | null)?.name;
  if (name === "AbortError" || name === "TimeoutError") return { kind: "aborted", reason: e };
  return { kind: "network", error: e };
}
