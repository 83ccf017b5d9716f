/**
 * `capstan serve`: the runtime alone — its store (embedded SQLite, or DynamoDB + S3 with
 * CAPSTAN_STORE=dynamodb), ingress, admin — invoking deployments on AWS Lambda (or
 * `CAPSTAN_LAMBDA_ENDPOINT`) and over HTTP. What a container (Fargate) runs; register deployments
 * with `capstan deployments register <url|arn>`. Stops cleanly on SIGTERM/SIGINT: it first drains
 * the requests in flight on its ingress and admin listeners (at most INGRESS_DRAIN_MS), then a node
 * of a cluster (CAPSTAN_STORE=dynamodb) hands its partitions over and leaves, so the successors take
 * over at their next lease tick instead of after the lease. A second SIGINT/SIGTERM during the stop
 * ends the process at once (Node's default).
 * `--create-table` creates the DynamoDB table and S3 bucket, only on local endpoints.
 */
import type { ParsedArgs } from "./args";
import { configFlags, loadConfig } from "../config/config";
import { HttpInvoker } from "../invoker/http-invoker";
import { LambdaInvoker } from "../invoker/lambda-invoker";
import { RoutingInvoker } from "../invoker/routing-invoker";
import { startRuntimeNodeFromConfig, type RuntimeNode } from "../node";
import { stopSignal } from "./stop-signal";
import { createLog, type Log, type LogFormat } from "../log";
import { loadNodeCredentials } from "../security/node-credentials";
import { INGRESS_DRAIN_MS } from "../server/request-drain";

export async function runServe(args: ParsedArgs): Promise<number> {
  let node: RuntimeNode;
  let log: Log;
  let logFormat: LogFormat;
  try {
    const config = loadConfig(configFlags(args.flags));
    logFormat = config.logFormat;
    log = createLog(config.logFormat, config.logLevel);
    const credentials = loadNodeCredentials(config.dataDir, config.secrets);
    const invoker = new RoutingInvoker({
      lambda: new LambdaInvoker({
        region: config.awsRegion,
        maxConcurrency: config.maxConcurrentInvocations,
        identity: credentials.identity,
        ...(config.lambdaEndpoint !== undefined && { endpoint: config.lambdaEndpoint }),
      }),
      http: new HttpInvoker({
        maxConcurrency: config.maxConcurrentInvocations,
        identity: credentials.identity,
      }),
    });
    node = await startRuntimeNodeFromConfig(config, invoker, log, credentials, undefined, {
      createTable: args.flags.has("create-table"),
    });
  } catch (e) {
    process.stderr.write(`capstan serve: ${(e as Error).message}\n`);
    return 1;
  }
  if (logFormat === "json") {
    // In a container every stdout line goes to CloudWatch: one JSON line like the rest, and no
    // hint about a local token file the task does not have.
    log(
      `Capstan runtime is running: ingress ${node.ingressUrl}, admin ${node.adminUrl}, ` +
        `checkpoint ${node.checkpointUrl}${node.peerUrl !== undefined ? `, peer ${node.peerUrl}` : ""}, ` +
        `node ${node.runtime.nodeId}, identity public key ${node.identityPublicKey}`,
    );
  } else {
    process.stdout.write(
      `Capstan runtime is running: ingress ${node.ingressUrl}, admin ${node.adminUrl} ` +
        `(console ${node.adminUrl}/ui/), checkpoint ${node.checkpointUrl}\n` +
        (node.peerUrl !== undefined
          ? `  cluster node ${node.runtime.nodeId}, peer listener ${node.peerUrl} (GET /cluster on admin)\n`
          : "") +
        `  identity public key ${node.identityPublicKey} (set CAPSTAN_IDENTITY_PUBLIC_KEYS on deployments)\n` +
        `  admin token: \`npx capstan admin-token\` shows it\n`,
    );
  }
  await stopSignal();
  log(
    `stopping: answering the requests in flight (at most ${INGRESS_DRAIN_MS} ms)` +
      (node.peerUrl !== undefined ? ", then handing the partitions over" : ""),
  );
  await node.close();
  log("stopped");
  return 0;
}
