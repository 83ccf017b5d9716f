/**
 * Runs handler attempts: on an `invoke` effect it builds the request from state, sends it through the
 * Invoker with the abort timeout, and appends the outcome (an `entries` record with the response's
 * outcome, or `attempt-failed`). It is the only place attempts start or end.
 */
import type { Log } from "../log";
import { isProtocolError } from "@capstan/sdk/protocol";
import type { Clock } from "../core/clock";
import type { Invocation } from "../core/state";
import { InvokeError, type Invoker } from "../invoker/invoker";
import type { Metrics } from "../metrics/metrics";
import { appendInternal } from "../partition/internal-append";
import type { PartitionProcessor } from "../partition/partition-processor";
import type { DeploymentRegistry } from "../registry/deployment-registry";
import { ATTEMPT_CREDENTIAL_TTL_MS, type AttemptCredentials } from "../security/attempt-credentials";
import { buildInvokeRequest } from "./request-builder";

interface InFlight {
  attempt: number;
  controller: AbortController;
}

export class AttemptDriver {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    private readonly processors: PartitionProcessor[],
    private readonly registry: DeploymentRegistry,
    private readonly invoker: Invoker,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly checkpointUrl: () => string | undefined,
    private readonly log: Log,
    private readonly credentials: AttemptCredentials,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(partition: number, invocationId: string, attempt: number): void {
    const processor = this.processors[partition]!;
    const inv = processor.state.invocations.get(invocationId as Invocation["id"]);
    if (!inv || inv.status !== "running" || inv.attempt !== attempt) return;
    this.inFlight.get(invocationId)?.controller.abort();
    const controller = new AbortController();
    this.inFlight.set(invocationId, { attempt, controller });
    void this.run(processor, inv, attempt, controller).finally(() => {
      if (this.inFlight.get(invocationId)?.controller === controller) this.inFlight.delete(invocationId);
    });
  }

  abort(invocationId: string, attempt: number): void {
    const f = this.inFlight.get(invocationId);
    if (f && f.attempt === attempt) f.controller.abort();
  }

  abortAll(): void {
    for (const f of this.inFlight.values()) f.controller.abort();
  }

  private async run(
    processor: PartitionProcessor,
    inv: Invocation,
    attempt: number,
    controller: AbortController,
  ): Promise<void> {
    const id = inv.id;
    const deployment = this.registry.get(inv.deploymentId);
    if (!deployment) {
      await this.fail(processor, id, attempt, `deployment ${inv.deploymentId} is not registered`, false);
      return;
    }
    const nowMs = this.clock.nowMs();
    const token = this.credentials.issue({
      partition: processor.partition,
      invocationId: id,
      attempt,
      epoch: processor.epoch,
      expiresAtMs: nowMs + ATTEMPT_CREDENTIAL_TTL_MS,
    });
    const request = buildInvokeRequest(processor.state, inv, this.checkpointUrl(), nowMs, token);
    const timeout = setTimeout(
      () =>
        controller.abort(
          new InvokeError(
            "INVOKE_TIMEOUT",
            `attempt exceeded the abort timeout of ${inv.abortTimeoutMs} ms`,
            true,
          ),
        ),
      inv.abortTimeoutMs,
    );
    this.metrics.countHandlerInvocation(inv.target.service, inv.target.handler);
    const startedMs = this.clock.nowMs();
    try {
      const response = await this.invoker.invoke(deployment.endpoint, request, controller.signal);
      const endedMs = this.clock.nowMs();
      this.log(
        () =>
          `attempt ${attempt} of ${id} (${inv.target.service}/${inv.target.handler}): ${response.outcome.kind}, ` +
          `${response.entries.length} new entries, ${endedMs - startedMs} ms`,
        "debug",
      );
      if (response.invocationId !== id || response.attemptToken !== token) {
        await this.fail(processor, id, attempt, "response names another invocation or attempt", true);
        return;
      }
      const effects = await appendInternal(
        processor,
        { kind: "entries", invocationId: id, attempt, entries: response.entries, outcome: response.outcome },
        this.log,
      );
      const rejected = effects?.find((e) => e.kind === "entries-rejected");
      if (rejected && rejected.code !== "INVOKE_STALE_ATTEMPT") {
        // The response did not fit the journal: nothing was applied, so retry the attempt.
        await this.fail(processor, id, attempt, `${rejected.code}: ${rejected.message}`, true);
      }
    } catch (e) {
      if (controller.signal.aborted && !(controller.signal.reason instanceof InvokeError)) return; // aborted on purpose (kill, pause, shutdown)
      const err = controller.signal.reason instanceof InvokeError ? controller.signal.reason : e;
      const retryable = err instanceof InvokeError ? err.retryable : !isProtocolError(err);
      const code = err instanceof InvokeError ? err.code : "INVOKE_UNEXPECTED";
      this.metrics.countInvokeFailure(code);
      this.log(
        `attempt ${attempt} of ${id} failed (${code}): ${String((err as Error)?.message ?? err)}`,
        "warn",
      );
      await this.fail(
        processor,
        id,
        attempt,
        `${code}: ${String((err as Error)?.message ?? err)}`,
        retryable,
      );
    } finally {
      clearTimeout(timeout);
    }
  }

  private async fail(
    processor: PartitionProcessor,
    invocationId: Invocation["id"],
    attempt: number,
    message: string,
    retryable: boolean,
  ): Promise<void> {
    await appendInternal(
      processor,
      { kind: "attempt-failed", invocationId, attempt, message, retryable },
      this.log,
    );
  }
}
