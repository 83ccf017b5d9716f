/**
 * Runs handler attempts: on an `invoke` effect it builds the request from the partition's view, sends
 * it through the Invoker with the abort timeout, and appends the outcome through the partition router
 * (an `entries` record with the response's outcome, or `attempt-failed`). It is the only place
 * attempts start or end.
 */
import {
  isProtocolError,
  parseInvocationId,
  partitionOfInvocationId,
  type JournalEntry,
} from "@capstan/sdk/protocol";
import type { Clock } from "../core/clock";
import type { Invocation } from "../core/state";
import { InvokeError, type Invoker } from "../invoker/invoker";
import { appendInternal } from "../partition/internal-append";
import type { PartitionRouter } from "../partition/partition-router";
import type { DeploymentRegistry } from "../registry/deployment-registry";
import { ATTEMPT_CREDENTIAL_TTL_MS, type AttemptCredentials } from "../security/attempt-credentials";
import type { AttemptEnd, AttemptTelemetry, Telemetry } from "../telemetry/telemetry";
import { buildInvokeRequest } from "./request-builder";

interface InFlight {
  attempt: number;
  controller: AbortController;
  /** Set once the invocation is read and the attempt's span opens. */
  telemetry?: AttemptTelemetry;
}

export class AttemptDriver {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    private readonly router: PartitionRouter,
    private readonly registry: DeploymentRegistry,
    private readonly invoker: Invoker,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
    private readonly checkpointUrl: () => string | undefined,
    private readonly credentials: AttemptCredentials,
  ) {}

  private get log(): Telemetry["log"] {
    return this.telemetry.log;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Starts `attempt` of the invocation. It is in flight from this call on (an `abort-attempt` effect
   * that follows finds it), though the request is built only once the partition's view has answered.
   */
  start(partition: number, invocationId: string, attempt: number): void {
    this.inFlight.get(invocationId)?.controller.abort();
    const controller = new AbortController();
    this.inFlight.set(invocationId, { attempt, controller });
    void this.run(partition, invocationId as Invocation["id"], attempt, controller).finally(() => {
      if (this.inFlight.get(invocationId)?.controller === controller) this.inFlight.delete(invocationId);
    });
  }

  /** Entries a checkpoint of the running attempt recorded (span events). */
  checkpointed(invocationId: string, attempt: number, entries: readonly JournalEntry[]): void {
    const f = this.inFlight.get(invocationId);
    if (f && f.attempt === attempt) f.telemetry?.entries(entries);
  }

  abort(invocationId: string, attempt: number): void {
    const f = this.inFlight.get(invocationId);
    if (f && f.attempt === attempt) f.controller.abort();
  }

  /** Aborts the attempts of `partition` (it moved to another node, whose `recover` restarts them). */
  abortPartition(partition: number): void {
    for (const [id, f] of this.inFlight) if (partitionOfId(id) === partition) f.controller.abort();
  }

  abortAll(): void {
    for (const f of this.inFlight.values()) f.controller.abort();
  }

  private async run(
    partition: number,
    id: Invocation["id"],
    attempt: number,
    controller: AbortController,
  ): Promise<void> {
    const view = this.router.view(partition);
    const inv = await view.invocation(id);
    // Superseded meanwhile (a newer attempt, a kill, a completion): that attempt's own effect runs it.
    if (!inv || inv.status !== "running" || inv.attempt !== attempt || controller.signal.aborted) return;
    const telemetry = this.telemetry.attemptStarted(inv, attempt);
    const inFlight = this.inFlight.get(id);
    if (inFlight?.controller === controller) inFlight.telemetry = telemetry;
    /** The attempt's outcome is recorded: its span ends, its failure is logged and counted. */
    const ended = async (result: AttemptEnd): Promise<void> =>
      telemetry.end(result, (await view.invocation(id)) ?? inv);
    // Registered on another node moments ago: getCurrent reloads the shared registry on a miss.
    const deployment = await this.registry.getCurrent(inv.deploymentId);
    if (!deployment) {
      const message = `deployment ${inv.deploymentId} is not registered`;
      await this.fail(partition, id, attempt, message, false);
      await ended({ kind: "invoke-error", code: "INVOKE_UNEXPECTED", message });
      return;
    }
    const health = this.router.health(partition);
    if (health.state !== "leading") {
      await ended({ kind: "aborted" }); // nothing this attempt did could be recorded
      return;
    }
    const objectState =
      inv.target.key === undefined ? undefined : await view.objectState(inv.target.service, inv.target.key);
    const nowMs = this.clock.nowMs();
    const token = this.credentials.issue({
      partition,
      invocationId: id,
      attempt,
      epoch: health.epoch,
      expiresAtMs: nowMs + ATTEMPT_CREDENTIAL_TTL_MS,
    });
    const request = buildInvokeRequest(
      objectState,
      inv,
      this.checkpointUrl(),
      nowMs,
      token,
      this.router.partitions,
    );
    request.traceparent = telemetry.traceparent;
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
    this.telemetry.metrics.countHandlerInvocation(inv.target.service, inv.target.handler);
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
        const message = "response names another invocation or attempt";
        await this.fail(partition, id, attempt, message, true);
        await ended({ kind: "invoke-error", code: "INVOKE_BAD_RESPONSE", message });
        return;
      }
      telemetry.entries(response.entries);
      const effects = await appendInternal(
        this.router,
        partition,
        { kind: "entries", invocationId: id, attempt, entries: response.entries, outcome: response.outcome },
        this.log,
      );
      const rejected = effects?.find((e) => e.kind === "entries-rejected");
      if (rejected && rejected.code !== "INVOKE_STALE_ATTEMPT") {
        // The response did not fit the journal: nothing was applied, so retry the attempt.
        await this.fail(partition, id, attempt, `${rejected.code}: ${rejected.message}`, true);
        await ended({ kind: "invoke-error", code: rejected.code, message: rejected.message });
        return;
      }
      await ended(rejected ? { kind: "aborted" } : { kind: "response", outcome: response.outcome });
    } catch (e) {
      if (controller.signal.aborted && !(controller.signal.reason instanceof InvokeError)) {
        await ended({ kind: "aborted" }); // aborted on purpose (kill, pause, shutdown)
        return;
      }
      const err = controller.signal.reason instanceof InvokeError ? controller.signal.reason : e;
      const retryable = err instanceof InvokeError ? err.retryable : !isProtocolError(err);
      const code = err instanceof InvokeError ? err.code : "INVOKE_UNEXPECTED";
      const message = String((err as Error)?.message ?? err);
      this.telemetry.metrics.countInvokeFailure(code);
      await this.fail(partition, id, attempt, `${code}: ${message}`, retryable);
      await ended({ kind: "invoke-error", code, message });
    } finally {
      clearTimeout(timeout);
    }
  }

  private async fail(
    partition: number,
    invocationId: Invocation["id"],
    attempt: number,
    message: string,
    retryable: boolean,
  ): Promise<void> {
    await appendInternal(
      this.router,
      partition,
      { kind: "attempt-failed", invocationId, attempt, message, retryable },
      this.log,
    );
  }
}

function partitionOfId(id: string): number | undefined {
  try {
    return partitionOfInvocationId(parseInvocationId(id));
  } catch {
    return undefined;
  }
}
