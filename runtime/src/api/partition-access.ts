/**
 * What the ingress, checkpoint and admin APIs share: finding an invocation's partition, reading it
 * through the partition router, and appending a request's record with the router's refusals turned
 * into the RuntimeErrors callers see.
 */
import { parseInvocationId, partitionOfInvocationId, type InvocationId } from "@capstan/sdk/protocol";
import type { Effect } from "../core/effects";
import type { Invocation } from "../core/state";
import {
  PARTITION_OVERLOADED_RETRY_AFTER_MS,
  PARTITION_UNAVAILABLE_RETRY_AFTER_MS,
} from "../partition/partition-errors";
import type { RecordInput } from "../partition/partition-processor";
import { NOT_LED_HERE, type PartitionRouter, type PartitionView } from "../partition/partition-router";
import type { HealthInfo } from "../server/runtime-api";
import { RuntimeError } from "../runtime-error";

export class PartitionAccess {
  constructor(
    readonly router: PartitionRouter,
    /** The runtime's lifecycle status: requests are refused unless "ok". */
    private readonly status: () => HealthInfo["status"],
  ) {}

  assertRunning(): void {
    const status = this.status();
    if (status !== "ok") throw new RuntimeError("RUNTIME_UNAVAILABLE", `runtime is ${status}`);
  }

  /** The partition an invocation id names; INVOCATION_INVALID_ID / INVOCATION_NOT_FOUND otherwise. */
  locate(invocationId: string): { p: number; id: InvocationId } {
    let id: InvocationId;
    try {
      id = parseInvocationId(invocationId);
    } catch (e) {
      throw new RuntimeError("INVOCATION_INVALID_ID", `not an invocation id: ${invocationId}`, { cause: e });
    }
    const p = partitionOfInvocationId(id);
    if (p >= this.router.partitions)
      throw new RuntimeError("INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`);
    return { p, id };
  }

  /**
   * The reads of a partition this node answers for: RUNTIME_PARTITION_UNAVAILABLE (503 with a retry
   * hint) when another node of the cluster leads it or it is moving, rather than an empty answer.
   */
  view(p: number): PartitionView {
    if (this.router.health(p).state === "elsewhere") throw notLedHere(p);
    return this.router.view(p);
  }

  /** The invocation and its partition; INVOCATION_NOT_FOUND when the partition does not hold it. */
  async lookup(invocationId: string): Promise<{ p: number; inv: Invocation }> {
    const { p, id } = this.locate(invocationId);
    const inv = await this.view(p).invocation(id);
    if (!inv) throw new RuntimeError("INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`);
    return { p, inv };
  }

  /**
   * Appends a request's record. Refusals, each with nothing recorded: RUNTIME_OVERLOADED (backpressure),
   * RUNTIME_PARTITION_UNAVAILABLE (the partition stopped or its store refused), both with a retry hint.
   */
  async append(p: number, record: RecordInput): Promise<Effect[]> {
    this.assertRunning();
    try {
      return await this.router.append(p, record, "external");
    } catch (e) {
      const code = (e as { code?: string })?.code;
      const message = (e as Error).message;
      if (code === "RUNTIME_OVERLOADED" || code === "STORE_OVERLOADED") {
        throw new RuntimeError("RUNTIME_OVERLOADED", message, {
          cause: e,
          retryAfterMs: PARTITION_OVERLOADED_RETRY_AFTER_MS,
        });
      }
      if (code === "RUNTIME_PARTITION_UNAVAILABLE" || code?.startsWith("STORE_")) {
        throw new RuntimeError(
          "RUNTIME_PARTITION_UNAVAILABLE",
          code === "RUNTIME_PARTITION_UNAVAILABLE" ? message : `partition ${p}: ${code}: ${message}`,
          { cause: e, retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS },
        );
      }
      throw e;
    }
  }
}

function notLedHere(p: number): RuntimeError {
  return new RuntimeError("RUNTIME_PARTITION_UNAVAILABLE", `partition ${p} is ${NOT_LED_HERE}`, {
    retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS,
  });
}
