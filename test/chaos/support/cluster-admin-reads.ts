/**
 * The oracle's admin reads through a node of a cluster: the reads of one node, with a read answered
 * 503 while a partition moves (rebalancing after a restart) retried, as a client would after
 * `retry-after`, until READ_RETRY_MS has passed.
 */
import type { InvocationStatus } from "../../../runtime/src/core/state";
import type { InvocationDetail, InvocationSummary } from "../../../runtime/src/server/runtime-api";
import type { AdminClient, AdminReads } from "./admin-client";

const READ_RETRY_MS = 30_000;
const RETRY_PAUSE_MS = 250;

/** `read()`, again while it fails with a 503 (the partition is moving), until READ_RETRY_MS. */
async function retrying<T>(read: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + READ_RETRY_MS;
  for (;;) {
    try {
      return await read();
    } catch (e) {
      if (!String((e as Error)?.message).includes("answered 503") || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
    }
  }
}

export class ClusterAdminReads implements AdminReads {
  constructor(private readonly admin: AdminClient) {}

  state(service: string, key: string): Promise<Record<string, unknown>> {
    return retrying(() => this.admin.state(service, key));
  }

  invocation(id: string): Promise<InvocationDetail | undefined> {
    return retrying(() => this.admin.invocation(id));
  }

  invocations(status: InvocationStatus): Promise<InvocationSummary[]> {
    return retrying(() => this.admin.invocations(status));
  }

  /** Any node answers SQL over the whole cluster (partitions led elsewhere are read from their leaders). */
  query(sql: string): Promise<unknown[][]> {
    return retrying(() => this.admin.query(sql));
  }
}
