/**
 * Drives the ingress like real clients, with bounded concurrency, and keeps the ledger the oracle checks.
 * A request is ACKNOWLEDGED only when the runtime answered it: 200 for a call, 202 for a send. A request
 * with an idempotency key that was not acknowledged (refused connection, reset by the kill, 5xx) is
 * retried with the same key and body until it is, as a client would; one without a key is sent once,
 * so its fate is unknown unless acknowledged.
 */
import { HEADER_INVOCATION_ID } from "@capstan/sdk/protocol";
import { between } from "./prng";

export type RequestKind =
  "counter" | "steps-call" | "tally-send" | "steps-send" | "nap-send" | "delayed-send" | "caller-call";

export interface Ack {
  status: number;
  invocationId: string;
  body: string;
  /** Runtime incarnation (0-based) that answered. */
  incarnation: number;
}

export interface LogicalRequest {
  id: string;
  kind: RequestKind;
  /** Ingress path and query. */
  path: string;
  /** A function so a delayed send stamps its earliest time at each attempt. */
  body: () => string;
  idempotent: boolean;
  /** Object key for Counter and Tally. */
  key?: string;
  attempts: number;
  failures: string[];
  ack?: Ack;
  /** Delayed sends: earliest execution time as the client computed it before sending. */
  notBeforeMs?: number;
}

export const COUNTER_KEYS = ["c0", "c1", "c2", "c3"];
export const TALLY_KEYS = ["t0", "t1", "t2"];
/** Per-request deadline: a call that has not answered by then counts as a failed attempt. */
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_FAILURES_KEPT = 4;

/** The crash test's mix of request kinds, by weight. */
export const CHAOS_WEIGHTS: Array<[RequestKind, number]> = [
  ["counter", 40],
  ["steps-call", 10],
  ["tally-send", 15],
  ["steps-send", 15],
  ["nap-send", 10],
  ["delayed-send", 10],
];

export class LoadDriver {
  readonly requests: LogicalRequest[] = [];
  /** Runtime incarnation → when it acknowledged its first request (epoch ms). */
  readonly firstAckAtMs = new Map<number, number>();
  private readonly retryQueue: LogicalRequest[] = [];
  /** Where requests go: one runtime, or the nodes of a cluster taken in turn. */
  private ingressUrls: string[] = [];
  private nextUrl = 0;
  private incarnation = -1;
  private up = false;

  constructor(private readonly random: () => number) {}

  /** A new runtime incarnation serves from now on. */
  attach(ingressUrl: string, incarnation: number): void {
    this.attachAll([ingressUrl], incarnation);
  }

  /** Several nodes serve (a cluster): each attempt goes to the next of them in turn. */
  attachAll(ingressUrls: string[], incarnation: number): void {
    this.ingressUrls = [...ingressUrls];
    this.incarnation = incarnation;
    this.up = true;
  }

  /** The runtime is being killed: workers stop taking work; failed idempotent requests wait for retry. */
  detach(): void {
    this.up = false;
  }

  get pendingRetries(): number {
    return this.retryQueue.length;
  }

  /**
   * Runs `workers` concurrent clients until `stop()` returns true or the runtime is detached: retries
   * first, then new requests (at most `maxNew`). Resolves once every worker's request has settled.
   */
  async run(workers: number, maxNew: number, stop: () => boolean): Promise<void> {
    let created = 0;
    const worker = async (): Promise<void> => {
      while (this.up && !stop()) {
        let request = this.retryQueue.shift();
        if (request === undefined) {
          if (created >= maxNew) return;
          created++;
          request = this.create();
        }
        if (!(await this.attempt(request)) && this.up) await new Promise((r) => setTimeout(r, 20));
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }

  /** Retries every unacknowledged idempotent request until acknowledged or `deadlineMs` passes. */
  async drainRetries(workers: number, deadlineMs: number): Promise<void> {
    while (this.retryQueue.length > 0 && Date.now() < deadlineMs) {
      await this.run(workers, 0, () => Date.now() >= deadlineMs);
      if (this.retryQueue.length > 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  private create(): LogicalRequest {
    const request = createRequest(this.requests.length, this.random, CHAOS_WEIGHTS, Date.now);
    this.requests.push(request);
    return request;
  }

  /** One attempt; true when acknowledged. */
  private async attempt(request: LogicalRequest): Promise<boolean> {
    request.attempts++;
    const incarnation = this.incarnation;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (request.idempotent) headers["idempotency-key"] = request.id;
    let failure: string;
    try {
      const ingressUrl = this.ingressUrls[this.nextUrl++ % this.ingressUrls.length]!;
      const response = await fetch(ingressUrl + request.path, {
        method: "POST",
        headers,
        body: request.body(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = await response.text();
      const expected = request.path.includes("/send") ? 202 : 200;
      if (response.status === expected) {
        const invocationId =
          expected === 202
            ? (JSON.parse(body) as { invocationId: string }).invocationId
            : (response.headers.get(HEADER_INVOCATION_ID) ?? "");
        request.ack ??= { status: response.status, invocationId, body, incarnation };
        if (!this.firstAckAtMs.has(incarnation)) this.firstAckAtMs.set(incarnation, Date.now());
        return true;
      }
      failure = `HTTP ${response.status}: ${body.slice(0, 200)}`;
    } catch (e) {
      failure = describeError(e);
    }
    if (request.failures.length < MAX_FAILURES_KEPT) request.failures.push(`#${incarnation}: ${failure}`);
    if (request.idempotent) this.retryQueue.push(request);
    return false;
  }
}

/**
 * The `n`th logical request, its kind drawn by `weights`; `nowMs` is the client's clock (a delayed
 * send computes its earliest execution time from it before each attempt).
 */
export function createRequest(
  n: number,
  random: () => number,
  weights: Array<[RequestKind, number]>,
  nowMs: () => number,
): LogicalRequest {
  const kind = pick(random, weights);
  const base = { kind, attempts: 0, failures: [] as string[] };
  let request: LogicalRequest;
  switch (kind) {
    case "counter": {
      const key = COUNTER_KEYS[between(random, 0, COUNTER_KEYS.length - 1)]!;
      request = {
        ...base,
        id: `counter-${n}`,
        key,
        path: `/Counter/${key}/add`,
        body: () => "1",
        idempotent: true,
      };
      break;
    }
    case "steps-call":
      request = { ...base, id: `steps-call-${n}`, path: "/Steps/run", body: () => "{}", idempotent: true };
      break;
    case "tally-send": {
      const key = TALLY_KEYS[between(random, 0, TALLY_KEYS.length - 1)]!;
      const id = `tally-${n}`;
      request = {
        ...base,
        id,
        key,
        path: `/Tally/${key}/add/send`,
        body: () => JSON.stringify(id),
        idempotent: true,
      };
      break;
    }
    case "steps-send":
      request = {
        ...base,
        id: `steps-send-${n}`,
        path: "/Steps/run/send",
        body: () => "{}",
        idempotent: false,
      };
      break;
    case "nap-send": {
      const ms = between(random, 50, 300);
      request = {
        ...base,
        id: `nap-${n}`,
        path: "/Sleeper/nap/send",
        body: () => JSON.stringify({ ms }),
        idempotent: false,
      };
      break;
    }
    case "delayed-send": {
      const delayMs = between(random, 50, 400);
      request = {
        ...base,
        id: `delayed-${n}`,
        path: `/Sleeper/delayed/send?delay=${delayMs}ms`,
        body: () => {
          // Read before the request leaves: the runtime's own "now + delay" can only be later.
          request.notBeforeMs = nowMs() + delayMs;
          return JSON.stringify({ notBeforeMs: request.notBeforeMs });
        },
        idempotent: false,
      };
      break;
    }
    case "caller-call":
      request = {
        ...base,
        id: `caller-call-${n}`,
        path: "/Caller/steps",
        body: () => "{}",
        idempotent: true,
      };
      break;
  }
  return request;
}

function pick(random: () => number, weights: Array<[RequestKind, number]>): RequestKind {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [kind, w] of weights) {
    if ((r -= w) < 0) return kind;
  }
  return weights[0]![0];
}

/** fetch hides the socket error (ECONNREFUSED, "other side closed") in `cause`. */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `${e.name}: ${e.message}${cause}`;
}
