/**
 * The terminal side of `capstan dev --nodes N`: starts the dev cluster, says where each node
 * listens (and node 0's console), rebuilds on changes unless `--no-watch`, and stops everything on
 * Ctrl-C (or SIGTERM).
 */
import type { ParsedArgs } from "../cli/args";
import { stopSignal } from "../cli/stop-signal";
import { DEFAULT_ADMIN_PORT, DEFAULT_INGRESS_PORT, type RuntimeConfig } from "../config/config";
import type { Log } from "../log";
import { startDevCluster, DEV_CLUSTER_TABLE, DEV_CLUSTER_BUCKET, type DevCluster } from "./dev-cluster";
import { displayPath } from "./display-path";
import { watchFunctions } from "./dev-platform";

export async function runDevCluster(
  args: ParsedArgs,
  config: RuntimeConfig,
  nodeCount: number,
  log: Log,
): Promise<number> {
  const out = (s: string): void => void process.stdout.write(s + "\n");
  let cluster: DevCluster;
  try {
    cluster = await startDevCluster(config, nodeCount, log, { progress: out, nodeOutput: out });
  } catch (e) {
    process.stderr.write(`capstan dev: ${(e as Error).message}\n`);
    return 1;
  }
  const services = await servicesOf(cluster);
  out(clusterSummary(config, cluster, services).join("\n"));
  const watcher = args.flags.has("no-watch")
    ? undefined
    : watchFunctions(config, () => cluster.rebuild(), log);
  await stopSignal();
  watcher?.close();
  out("stopping the nodes, then DynamoDB Local, the S3 stand-in and the Lambda endpoint…");
  await cluster.close();
  return 0;
}

/** What `capstan dev --nodes N` prints once everything is up. */
export function clusterSummary(config: RuntimeConfig, cluster: DevCluster, services: string[]): string[] {
  const first = cluster.nodes[0]!;
  const other = cluster.nodes[1] ?? first;
  const port = (url: string): string => url.slice(url.lastIndexOf(":"));
  const offDefaults =
    first.adminUrl !== `http://127.0.0.1:${DEFAULT_ADMIN_PORT}` ||
    first.ingressUrl !== `http://127.0.0.1:${DEFAULT_INGRESS_PORT}`;
  return [
    "",
    `Capstan is running: ${cluster.nodes.length} nodes sharing the log in DynamoDB Local.`,
    ...cluster.nodes.map(
      (n) =>
        `  ${n.ports.nodeId.padEnd(8)} ingress ${n.ingressUrl}  admin ${n.adminUrl}  ` +
        `checkpoint ${port(n.checkpointUrl)}  peer ${port(n.peerUrl)}  pid ${n.process.pid ?? "-"}`,
    ),
    `  console  ${first.adminUrl}/ui/  (node-0; token: npx capstan admin-token)`,
    `  lambda   ${cluster.lambdaUrl}  (local Lambda endpoint)`,
    `  dynamodb ${cluster.dynamoDbEndpoint}  (DynamoDB Local, table ${DEV_CLUSTER_TABLE})`,
    `  s3       ${cluster.s3Endpoint}  (S3 stand-in, bucket ${DEV_CLUSTER_BUCKET})`,
    `  data     ${displayPath(config.dataDir)}`,
    `  identity ${cluster.identityPublicKey}`,
    `  services ${services.join(", ") || "(none)"}`,
    "",
    "Try:",
    ...(offDefaults
      ? [
          `  export CAPSTAN_ADMIN_URL=${first.adminUrl} CAPSTAN_INGRESS_URL=${first.ingressUrl}   # for the CLI`,
        ]
      : []),
    services.some((s) => s.startsWith("Greeter "))
      ? `  curl -X POST ${other.ingressUrl}/Greeter/greet -H 'content-type: application/json' -d '"Ada"'`
      : "  npx capstan services list",
    "  npx capstan cluster",
    "",
    "A node that dies is restarted. Ctrl-C stops everything; state is kept in the data directory.",
  ];
}

/** `Greeter (service)`, … as node 0 lists them; empty when it does not answer. */
async function servicesOf(cluster: DevCluster): Promise<string[]> {
  try {
    const res = await fetch(`${cluster.nodes[0]!.adminUrl}/services`, {
      headers: { authorization: `Bearer ${cluster.adminToken}` },
    });
    const body = (await res.json()) as { services?: Array<{ name: string; kind: string }> };
    return (body.services ?? []).map((s) => `${s.name} (${s.kind})`);
  } catch {
    return [];
  }
}
