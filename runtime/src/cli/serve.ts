/**
 * `capstan serve`: the runtime alone — embedded store, ingress, admin — invoking deployments on AWS
 * Lambda (or `CAPSTAN_LAMBDA_ENDPOINT`) and over HTTP. What a container (Fargate) runs; register
 * deployments with `capstan deployments register <url|arn>`. Stops cleanly on SIGTERM/SIGINT.
 */
import type { ParsedArgs } from "./args";
import { ConfigError, configFlags, loadConfig } from "../config/config";
import { HttpInvoker } from "../invoker/http-invoker";
import { LambdaInvoker } from "../invoker/lambda-invoker";
import { RoutingInvoker } from "../invoker/routing-invoker";
import { startRuntimeNode, type RuntimeNode } from "../node";

export async function runServe(args: ParsedArgs): Promise<number> {
  const log = (s: string): void => void process.stderr.write(`[capstan] ${s}\n`);
  let node: RuntimeNode;
  try {
    const config = loadConfig(configFlags(args.flags));
    const invoker = new RoutingInvoker({
      lambda: new LambdaInvoker({
        region: config.awsRegion,
        maxConcurrency: config.maxConcurrentInvocations,
        ...(config.lambdaEndpoint !== undefined && { endpoint: config.lambdaEndpoint }),
      }),
      http: new HttpInvoker({ maxConcurrency: config.maxConcurrentInvocations }),
    });
    node = await startRuntimeNode({
      dataDir: config.dataDir,
      partitions: config.partitions,
      host: config.host,
      ingressPort: config.ingressPort,
      adminPort: config.adminPort,
      invoker,
      completedRetentionMs: config.completedRetentionMs,
      ...(config.checkpointBaseUrl !== undefined && { checkpointBaseUrl: config.checkpointBaseUrl }),
      log,
    });
  } catch (e) {
    const port = (e as NodeJS.ErrnoException).code === "EADDRINUSE";
    const message = port
      ? `${(e as Error).message}: set CAPSTAN_INGRESS_PORT / CAPSTAN_ADMIN_PORT to free ports`
      : (e as Error).message;
    process.stderr.write(`capstan serve: ${e instanceof ConfigError ? e.message : message}\n`);
    return 1;
  }
  process.stdout.write(`Capstan runtime is running: ingress ${node.ingressUrl}, admin ${node.adminUrl}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await node.close();
  return 0;
}
