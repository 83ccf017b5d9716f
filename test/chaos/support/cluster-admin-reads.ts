/**
 * The oracle's admin reads through a node of a cluster. A cluster node answers `POST /query` with
 * 501 (SQL reads every partition in one process), so the one statement the oracle runs — invocation
 * counts by status and outcome — is answered from the invocation lists, which merge every live node's
 * answer. The lists of what must be empty (unfinished, failed) are exact below MAX_LIST_LIMIT (a full
 * page is refused: it may be cut); the count of succeeded invocations is a lower bound (it only
 * counts as "verified"). A read answered 503 while a partition moves (rebalancing after a restart)
 * is retried, as a client would after `retry-after`, until READ_RETRY_MS has passed.
 */
import type { InvocationStatus } from "../../../runtime/src/core/state";
import type { InvocationDetail, InvocationSummary } from "../../../runtime/src/server/runtime-api";
import { MAX_LIST_LIMIT } from "../../../runtime/src/server/limits";
import { UNFINISHED_STATUSES, type AdminClient, type AdminReads } from "./admin-client";

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

const COUNTS_QUERY = /^SELECT status, outcome, count\(\*\) FROM invocations GROUP BY status, outcome$/;

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

  async query(sql: string): Promise<unknown[][]> {
    if (!COUNTS_QUERY.test(sql)) throw new Error(`no SQL on a node of a cluster: ${sql}`);
    const rows: unknown[][] = [];
    const exact = async (status: string): Promise<number> => {
      const list = await this.invocations(status as InvocationStatus);
      if (list.length >= MAX_LIST_LIMIT) throw new Error(`${status}: a full page, it may be cut`);
      return list.length;
    };
    for (const status of UNFINISHED_STATUSES) {
      const n = await exact(status);
      if (n > 0) rows.push([status, null, n]);
    }
    const failed = await exact("failed");
    if (failed > 0) rows.push(["completed", "failed", failed]);
    const succeeded = await this.invocations("succeeded" as InvocationStatus);
    rows.push(["completed", "succeeded", succeeded.length]);
    return rows;
  }
}
