/** The two admin calls the bench makes: register an HTTP deployment, and scrape /metrics. */

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
