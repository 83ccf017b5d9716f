/** The admin calls the bench makes: register an HTTP deployment, scrape /metrics, SQL, state. */

export async function registerDeployment(adminUrl: string, adminToken: string, uri: string): Promise<void> {
  const res = await fetch(`${adminUrl}/deployments`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ uri }),
  });
  if (res.status !== 201) throw new Error(`POST /deployments ${uri}: HTTP ${res.status} ${await res.text()}`);
}

export interface RuntimeCounters {
  /** Sum of capstan_handler_invocations_total over every service and handler. */
  handlerInvocations: number;
  /** Sum of capstan_invoke_failures_total over every code. */
  invokeFailures: number;
  logRecords: number;
  commitBatches: number;
  commitSeconds: number;
}

function sum(text: string, metric: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

export async function readCounters(adminUrl: string, adminToken: string): Promise<RuntimeCounters> {
  const res = await fetch(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const text = await res.text();
  return {
    handlerInvocations: sum(text, "capstan_handler_invocations_total"),
    invokeFailures: sum(text, "capstan_invoke_failures_total"),
    logRecords: sum(text, "capstan_log_records_total"),
    commitBatches: sum(text, "capstan_log_commit_batches_total"),
    commitSeconds: sum(text, "capstan_log_commit_seconds_total"),
  };
}

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
}

/** `POST /query`: read-only SQL over the runtime's invocations, journal and state. */
export async function query(adminUrl: string, adminToken: string, sql: string): Promise<QueryResult> {
  const res = await fetch(`${adminUrl}/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ query: sql }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /query ${sql}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as QueryResult;
}

/** `GET /state/{service}/{key}`: the key's state, each value decoded from JSON. */
export async function getState(
  adminUrl: string,
  adminToken: string,
  service: string,
  key: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${adminUrl}/state/${service}/${encodeURIComponent(key)}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`GET /state/${service}/${key}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { state: Record<string, unknown> }).state;
}
