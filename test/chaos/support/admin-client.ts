/** The few admin reads the oracle needs, each with a deadline. Types come from the runtime's API. */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { InvocationDetail, InvocationSummary } from "../../../runtime/src/server/runtime-api";
import type { InvocationStatus } from "../../../runtime/src/core/state";

const READ_TIMEOUT_MS = 5_000;
/** Statuses an invocation must not be left in once the load has drained. */
export const UNFINISHED_STATUSES: InvocationStatus[] = [
  "scheduled",
  "inboxed",
  "running",
  "suspended",
  "backing-off",
  "paused",
];

/** The reads the oracle makes; the simulation answers them in-process (test/simulation/support). */
export interface AdminReads {
  state(service: string, key: string): Promise<Record<string, unknown>>;
  invocation(id: string): Promise<InvocationDetail | undefined>;
  invocations(status: InvocationStatus): Promise<InvocationSummary[]>;
  query(sql: string): Promise<unknown[][]>;
}

export class AdminClient implements AdminReads {
  private readonly authorization: string;

  /** The token is the one the runtime generated in its data directory on first start. */
  constructor(
    private readonly adminUrl: string,
    dataDir: string,
  ) {
    this.authorization = `Bearer ${readFileSync(path.join(dataDir, "admin-token"), "utf8").trim()}`;
  }

  async registerDeployment(uri: string): Promise<void> {
    const res = await fetch(`${this.adminUrl}/deployments`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: this.authorization },
      body: JSON.stringify({ uri }),
      signal: AbortSignal.timeout(READ_TIMEOUT_MS),
    });
    if (res.status !== 201) throw new Error(`registering ${uri} answered ${res.status}: ${await res.text()}`);
  }

  async state(service: string, key: string): Promise<Record<string, unknown>> {
    return (
      (await this.get(`/state/${service}/${encodeURIComponent(key)}`)) as { state: Record<string, unknown> }
    ).state;
  }

  /** undefined when the runtime does not know the invocation (404). */
  async invocation(id: string): Promise<InvocationDetail | undefined> {
    return (await this.get(`/invocations/${id}`, true)) as InvocationDetail | undefined;
  }

  async invocations(status: InvocationStatus): Promise<InvocationSummary[]> {
    return (
      (await this.get(`/invocations?status=${status}&limit=1000`)) as { invocations: InvocationSummary[] }
    ).invocations;
  }

  /** Read-only SQL over the runtime's invocations, journal and state views. */
  async query(sql: string): Promise<unknown[][]> {
    const res = await fetch(`${this.adminUrl}/query`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: this.authorization },
      body: JSON.stringify({ query: sql }),
      signal: AbortSignal.timeout(READ_TIMEOUT_MS),
    });
    if (res.status !== 200) throw new Error(`query ${sql} answered ${res.status}: ${await res.text()}`);
    const result = (await res.json()) as { rows: unknown[][]; truncated: boolean };
    if (result.truncated) throw new Error(`query ${sql} was truncated`);
    return result.rows;
  }

  private async get(path: string, allow404 = false): Promise<unknown> {
    const res = await fetch(this.adminUrl + path, {
      headers: { authorization: this.authorization },
      signal: AbortSignal.timeout(READ_TIMEOUT_MS),
    });
    if (allow404 && res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  }
}
