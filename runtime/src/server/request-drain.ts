/**
 * The requests a server is answering, and how it stops without cutting them off: on `drain` the
 * listener closes (new connections are refused by the OS, so nothing was started on this node and a
 * client or load balancer can go elsewhere at once), a request arriving on a connection that was
 * already open is answered 503 `<AREA>_NODE_DRAINING` with `connection: close`, idle keep-alive
 * connections close at once, and every request in flight gets its real answer, sent with
 * `connection: close`. What is still in flight when the drain deadline passes is answered 503
 * `<AREA>_DRAIN_DEADLINE` (its work may have taken effect: an invocation it started keeps running),
 * then every connection closes (the peer listener answers both as RUNTIME_PARTITION_UNAVAILABLE
 * instead: to the forwarding node the partition moved). So a client of a stopping node gets an
 * answer, never a reset, unless it sends on an idle keep-alive connection in the instant the server
 * closes it (the HTTP keep-alive race every client already retries).
 */
import type { Server, ServerResponse } from "node:http";
import { ApiError } from "./api-error";
import { sendError, type ServerLogger } from "./http-util";

/**
 * How long a stopping node keeps answering the requests in flight on its ingress and admin
 * listeners before it answers what is left with 503 and hands its partitions over. With the
 * hand-over and the peer listener's drain after it, within the dev node's STOP_DEADLINE_MS and
 * ORPHAN_STOP_DEADLINE_MS (15 s) and far below ECS's stop timeout (120 s: infra's
 * HANDOVER_MARGIN_SECONDS covers it); tests check both. An ingress call waiting on a long
 * invocation is answered at this deadline, never later, so a SIGTERM stops a node within about
 * this plus the hand-over.
 */
export const INGRESS_DRAIN_MS = 6_000;

/**
 * After the deadline's 503s are written, how long their connections may take to flush and close
 * before they are closed anyway.
 */
export const DRAIN_FLUSH_MS = 1_000;

/**
 * How long the peer listener answers what other nodes forwarded here, once this node handed its
 * partitions over, before it closes: they are answered (or refused with a retry hint) rather than
 * reset, and a forwarded request that took effect is not retried as if it had not.
 */
export const PEER_DRAIN_MS = 1_000;

/** The `retry-after` of both refusals: another node (or this one's successor) answers at once. */
const DRAIN_RETRY_AFTER_SECONDS = 1;

/** The two answers of a draining server (both 503 with `connection: close`). */
export interface DrainErrors {
  /** A request that arrives once the drain started: nothing of it ran. */
  refusal(): ApiError;
  /** A request still running at the deadline: what it started may have taken effect. */
  deadline(deadlineMs: number): ApiError;
}

/** `<AREA>_NODE_DRAINING` and `<AREA>_DRAIN_DEADLINE`: what the ingress and admin listeners answer. */
export function areaDrainErrors(area: string): DrainErrors {
  return {
    refusal: () =>
      new ApiError(
        503,
        `${area}_NODE_DRAINING`,
        "this node is stopping and takes no new requests: retry on another node",
        drainRetry(),
      ),
    deadline: (deadlineMs) =>
      new ApiError(
        503,
        `${area}_DRAIN_DEADLINE`,
        `this node is stopping and the request did not finish within its drain deadline (${deadlineMs} ms); ` +
          "what it started may have taken effect (an invocation keeps running): attach to it, or retry " +
          "with the same idempotency key",
        drainRetry(),
      ),
  };
}

/** The refusals' retry hint, and the connection ends after the answer. */
export function drainRetry(): { retryAfterSeconds: number; headers: Record<string, string> } {
  return { retryAfterSeconds: DRAIN_RETRY_AFTER_SECONDS, headers: { connection: "close" } };
}

export class RequestDrain {
  private readonly inFlight = new Map<ServerResponse, AbortController>();
  private drainingSince: Promise<void> | undefined;

  constructor(
    private readonly errors: DrainErrors,
    private readonly logger: ServerLogger,
    private readonly errorHeaders: Record<string, string> | undefined,
  ) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** The refusal of a request that arrives once the drain started: nothing of it ran. */
  refusal(): ApiError {
    return this.errors.refusal();
  }

  /** Tracks a request until its response is done or its connection gone. */
  track(res: ServerResponse, abort: AbortController): void {
    this.inFlight.set(res, abort);
    res.once("close", () => this.inFlight.delete(res));
  }

  /**
   * Drains `server` as described at the top; resolves once every connection is closed. Idempotent:
   * a second call returns the first one's promise (and its deadline).
   */
  drain(server: Server, deadlineMs: number): Promise<void> {
    return (this.drainingSince ??= this.run(server, deadlineMs));
  }

  private async run(server: Server, deadlineMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of this.inFlight.keys()) closeAfterAnswer(res);
    server.closeIdleConnections();
    if (await settlesWithin(closed, deadlineMs)) return;
    for (const [res, abort] of this.inFlight) {
      const error = this.errors.deadline(deadlineMs);
      sendError(res, error, this.logger, this.errorHeaders);
      // The handler stops waiting; whatever it writes later is dropped (its response has ended).
      abort.abort(error);
    }
    if (!(await settlesWithin(closed, DRAIN_FLUSH_MS))) server.closeAllConnections();
    await closed;
  }
}

/** The answer still to come is the connection's last: node:http ends it once the response is sent. */
function closeAfterAnswer(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader("connection", "close");
}

/** True when `p` settled within `ms`; the timer never outlives the wait. */
async function settlesWithin(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
