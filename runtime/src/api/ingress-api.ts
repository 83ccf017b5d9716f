/**
 * The ingress half of the RuntimeApi: new invocations, results, and awakeable completions. Each
 * request reaches its partition through the partition router.
 */
import {
  parseAwakeableId,
  partitionOfInvocationId,
  type Completion,
  type InvocationId,
  type Target,
} from "@capstan/sdk/protocol";
import type { Clock } from "../core/clock";
import type { InvocationTrace } from "../core/state";
import { formatNewInvocationId, partitionOfTarget } from "../core/partitioning";
import { randomHex, randomUint16 } from "../invocation/random-pool";
import { resolveTargetCurrent, toNewInvocation } from "../invocation/target-resolution";
import type { Waiters } from "../invocation/waiters";
import { isIngressPrivate, type DeploymentRegistry } from "../registry/deployment-registry";
import { RuntimeError } from "../runtime-error";
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "../partition/partition-errors";
import type { OutputState, SubmitRequest, SubmitResult } from "../server/runtime-api";
import type { Telemetry } from "../telemetry/telemetry";
import type { PartitionAccess } from "./partition-access";

/** W3C trace context header of an ingress request (lower case: Node's header names). */
const TRACEPARENT_HEADER = "traceparent";

export class IngressApi {
  constructor(
    private readonly access: PartitionAccess,
    private readonly registry: DeploymentRegistry,
    private readonly clock: Clock,
    /** Woken with an invocation's result when it finishes (effect dispatch). */
    private readonly resultWaiters: Waiters<Completion>,
    private readonly completedRetentionMs: number,
    private readonly telemetry: Telemetry,
    /**
     * The partition of a submit with no key (any will do); default: a random one. A node of a cluster
     * picks one it leads, so the request needs no forwarding.
     */
    private readonly anyPartition: (() => number) | undefined = undefined,
    /**
     * Woken (by partition number) when a partition moves to another node: a wait for a result there
     * ends with RUNTIME_PARTITION_UNAVAILABLE, and the caller retries where it is led now.
     */
    private readonly partitionMoves: Waiters<void> | undefined = undefined,
  ) {}

  /** Records a new invocation (or finds the one its idempotency key or workflow id names), traced. */
  async submit(request: SubmitRequest): Promise<SubmitResult> {
    this.access.assertRunning();
    const ingress = this.telemetry.ingress(request.target, request.headers[TRACEPARENT_HEADER]);
    try {
      const result = await this.submitTraced(request, ingress.trace);
      ingress.end();
      return result;
    } catch (e) {
      ingress.end((e as Error)?.message ?? String(e));
      throw e;
    }
  }

  private async submitTraced(
    request: SubmitRequest,
    trace: InvocationTrace | undefined,
  ): Promise<SubmitResult> {
    const resolved = await resolveTargetCurrent(this.registry, request.target);
    if (isIngressPrivate(resolved.service, resolved.handler)) {
      throw new RuntimeError(
        "INGRESS_HANDLER_PRIVATE",
        `${request.target.service}/${request.target.handler} is private: only other handlers may call it`,
      );
    }
    const partitions = this.access.router.partitions;
    const partition =
      partitionOfTarget(request.target, request.idempotencyKey, partitions) ??
      (this.anyPartition ?? (() => randomUint16() % partitions))();
    const invocation = toNewInvocation(
      resolved,
      {
        id: formatNewInvocationId(partition, randomHex(12)),
        target: request.target,
        input: request.input,
        headers: request.headers,
        ...(request.idempotencyKey !== undefined && { idempotencyKey: request.idempotencyKey }),
        ...(request.delayMs !== undefined &&
          request.delayMs > 0 && { notBeforeMs: this.clock.nowMs() + request.delayMs }),
        ...(trace !== undefined && { trace }),
      },
      this.completedRetentionMs,
    );
    const effects = await this.access.append(partition, { kind: "invoke", invocation });
    const accepted = effects.find((e) => e.kind === "invocation-accepted");
    if (!accepted) throw new Error("invoke record produced no invocation-accepted effect");
    // The schedule as recorded (the first request's, for a repeat), read from the partition that holds
    // the invocation: an idempotency key or workflow id maps a repeat to the same partition.
    const scheduledAtMs =
      invocation.notBeforeMs !== undefined || accepted.existing
        ? (await this.access.view(partition).describe(accepted.invocationId))?.scheduledAtMs
        : undefined;
    return {
      invocationId: accepted.invocationId,
      existing: accepted.existing,
      ...(scheduledAtMs !== undefined && { scheduledAtMs }),
    };
  }

  async awaitResult(invocationId: string, signal: AbortSignal): Promise<Completion> {
    if (signal.aborted) throw clientClosed();
    const { p } = this.access.locate(invocationId);
    // Waiting first, reading second: a result that lands while the read is answered still wakes us.
    let remove = (): void => undefined;
    let removeMove = (): void => undefined;
    let onAbort = (): void => undefined;
    const woken = new Promise<Completion>((resolve, reject) => {
      remove = this.resultWaiters.add(invocationId, resolve);
      removeMove = this.partitionMoves?.add(String(p), () => reject(movedAway(p))) ?? ((): void => undefined);
      onAbort = () => reject(clientClosed());
      signal.addEventListener("abort", onAbort, { once: true });
    });
    woken.catch(() => undefined); // an abort during the read below is answered by the read's outcome
    try {
      const { inv } = await this.access.lookup(invocationId);
      if (inv.status === "completed" && inv.result) return inv.result;
      return await woken;
    } finally {
      remove();
      removeMove();
      signal.removeEventListener("abort", onAbort);
    }
  }

  async output(invocationId: string): Promise<OutputState> {
    const { inv } = await this.access.lookup(invocationId);
    return inv.status === "completed" && inv.result ? { ready: true, result: inv.result } : { ready: false };
  }

  async workflowInvocation(service: string, workflowId: string): Promise<string | undefined> {
    const target = { service, handler: "", key: workflowId };
    const p = partitionOfTarget(target, undefined, this.access.router.partitions)!;
    return this.access.view(p).workflowInvocation(service, workflowId);
  }

  async idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined> {
    const p = partitionOfTarget(target, idempotencyKey, this.access.router.partitions)!;
    return this.access.view(p).idempotentInvocation(target, idempotencyKey);
  }

  async completeAwakeable(awakeableId: string, completion: Completion): Promise<void> {
    let parsed: { invocationId: InvocationId; entryIndex: number };
    try {
      parsed = parseAwakeableId(awakeableId);
    } catch (e) {
      throw new RuntimeError("INGRESS_INVALID_AWAKEABLE_ID", `not an awakeable id: ${awakeableId}`, {
        cause: e,
      });
    }
    const p = partitionOfInvocationId(parsed.invocationId);
    const inv =
      p < this.access.router.partitions
        ? await this.access.view(p).invocation(parsed.invocationId)
        : undefined;
    const entry = inv?.journal[parsed.entryIndex];
    if (!inv || !entry || entry.kind !== "awakeable") {
      throw new RuntimeError(
        "INGRESS_AWAKEABLE_NOT_FOUND",
        `awakeable ${awakeableId} does not exist (anymore)`,
      );
    }
    await this.access.append(p, {
      kind: "complete-entry",
      invocationId: parsed.invocationId,
      entryIndex: parsed.entryIndex,
      result: completion,
      awakeableOnly: true,
    });
  }
}

function movedAway(p: number): RuntimeError {
  return new RuntimeError("RUNTIME_PARTITION_UNAVAILABLE", `partition ${p} moved to another node: retry`, {
    retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS,
  });
}

function clientClosed(): RuntimeError {
  return new RuntimeError("INGRESS_CLIENT_CLOSED", "client went away");
}
