/** The oracle's admin reads, answered by the runtime in this process (what the admin API would say). */
import type { InvocationStatus } from "../../../runtime/src/core/state";
import { decodeStateValues } from "../../../runtime/src/server/admin-request";
import type {
  InvocationDetail,
  InvocationSummary,
  QueryResult,
  RuntimeApi,
} from "../../../runtime/src/server/runtime-api";
import type { AdminReads } from "../../chaos/support/admin-client";

/** As many invocations as the admin API lists at most in one page. */
const LIST_LIMIT = 1_000;

export class InProcessAdmin implements AdminReads {
  constructor(private readonly api: RuntimeApi) {}

  async state(service: string, key: string): Promise<Record<string, unknown>> {
    return decodeStateValues(await this.api.getState(service, key));
  }

  invocation(id: string): Promise<InvocationDetail | undefined> {
    return this.api.describeInvocation(id);
  }

  invocations(status: InvocationStatus): Promise<InvocationSummary[]> {
    return this.api.listInvocations({ status, limit: LIST_LIMIT });
  }

  async query(sql: string): Promise<unknown[][]> {
    const result = JSON.parse(await this.api.query(sql)) as QueryResult;
    if (result.truncated) throw new Error(`query ${sql} was truncated`);
    return result.rows;
  }
}
