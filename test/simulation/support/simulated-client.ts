/**
 * The simulation's clients: the crash test's logical requests (same kinds, ids, paths and ledger, so
 * the same oracle judges them), sent to the live incarnation in-process. A request is acknowledged
 * when the runtime answered it — a call with its result, a send with its invocation id — before the
 * incarnation crashed. An unacknowledged request with an idempotency key is retried, as a client
 * would; one without is sent once.
 */
import type { SubmitRequest } from "../../../runtime/src/server/runtime-api";
import { createRequest, type LogicalRequest, type RequestKind } from "../../chaos/support/load-driver";
import type { SimulatedNode } from "./simulated-node";

const MAX_FAILURES_KEPT = 4;

class Crashed extends Error {
  override readonly name = "Crashed";
  constructor() {
    super("the runtime crashed before answering");
  }
}

export class SimulatedClient {
  readonly requests: LogicalRequest[] = [];
  private readonly retryQueue: LogicalRequest[] = [];
  private inFlightCount = 0;

  constructor(
    private readonly random: () => number,
    private readonly weights: Array<[RequestKind, number]>,
    private readonly nowMs: () => number,
  ) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  get pendingRetries(): number {
    return this.retryQueue.length;
  }

  /** Sends a new logical request to `node` (not awaited: its answer arrives in a later turn). */
  sendNew(node: SimulatedNode): void {
    const request = createRequest(this.requests.length, this.random, this.weights, this.nowMs);
    this.requests.push(request);
    void this.attempt(node, request);
  }

  /** Retries the oldest unacknowledged idempotent request, if any. */
  retry(node: SimulatedNode): void {
    const request = this.retryQueue.shift();
    if (request !== undefined) void this.attempt(node, request);
  }

  private async attempt(node: SimulatedNode, request: LogicalRequest): Promise<void> {
    request.attempts++;
    this.inFlightCount++;
    const abort = new AbortController();
    const crashed = new Promise<never>((_, reject) =>
      node.whenCrashed(() => {
        abort.abort();
        reject(new Crashed());
      }),
    );
    crashed.catch(() => undefined);
    try {
      const ack = await Promise.race([this.exchange(node, request, abort.signal), crashed]);
      request.ack ??= { ...ack, incarnation: node.incarnation };
    } catch (e) {
      const code = (e as { code?: string }).code;
      const failure = `#${node.incarnation}: ${code ?? (e as Error).name}: ${(e as Error).message}`;
      if (request.failures.length < MAX_FAILURES_KEPT) request.failures.push(failure);
      if (request.idempotent) this.retryQueue.push(request);
    } finally {
      abort.abort();
      this.inFlightCount--;
    }
  }

  /** One request/answer with the runtime, as the ingress would translate it. */
  private async exchange(
    node: SimulatedNode,
    request: LogicalRequest,
    signal: AbortSignal,
  ): Promise<{ status: number; invocationId: string; body: string }> {
    const { submit, oneWay } = toSubmit(request);
    const { invocationId, existing } = await node.runtime.submit(submit);
    if (oneWay) {
      const status = existing ? "PreviouslyAccepted" : "Accepted";
      return { status: 202, invocationId, body: JSON.stringify({ invocationId, status }) };
    }
    const completion = await node.runtime.awaitResult(invocationId, signal);
    if (completion.kind === "failure") throw new Error(`failed: ${JSON.stringify(completion.failure)}`);
    return { status: 200, invocationId, body: completion.kind === "value" ? completion.value : "" };
  }
}

/** `/{svc}/[{key}/]{handler}[/send][?delay=Nms]` as the ingress parses it. */
function toSubmit(request: LogicalRequest): { submit: SubmitRequest; oneWay: boolean } {
  const [path = "", query = ""] = request.path.split("?");
  const segments = path.split("/").slice(1);
  const oneWay = segments.at(-1) === "send";
  if (oneWay) segments.pop();
  const [service = "", second = "", third] = segments;
  const target =
    third === undefined ? { service, handler: second } : { service, key: second, handler: third };
  const delay = /(?:^|&)delay=([0-9]+)ms/.exec(query);
  return {
    oneWay,
    submit: {
      target,
      input: request.body(),
      headers: {},
      ...(request.idempotent && { idempotencyKey: request.id }),
      ...(delay !== null && { delayMs: Number(delay[1]) }),
    },
  };
}
