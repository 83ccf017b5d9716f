/**
 * Entry of one node of the cluster chaos suite: `capstan serve` as the CLI starts it (the config from
 * the environment: CAPSTAN_STORE=dynamodb, CAPSTAN_NODE_ID, the shared secrets, ports 0), invoking
 * the test's HTTP deployment. Prints READY_PREFIX + JSON of ChildReady once it serves; SIGTERM closes
 * the node (the handover path) and exits 0; the parent also SIGKILLs, SIGSTOPs and SIGCONTs it.
 *
 * Usage: node -r ./swc-register.js cluster-child.ts
 */
import { loadConfig } from "../../../runtime/src/config/config";
import { HttpInvoker } from "../../../runtime/src/invoker/http-invoker";
import { createLog } from "../../../runtime/src/log";
import { startRuntimeNodeFromConfig } from "../../../runtime/src/node";
import { loadNodeCredentials } from "../../../runtime/src/security/node-credentials";
import { READY_PREFIX, type ChildReady } from "./child-protocol";

async function main(): Promise<void> {
  const startedAtMs = Date.now();
  const config = loadConfig();
  const log = createLog(config.logFormat, config.logLevel);
  const credentials = loadNodeCredentials(config.dataDir, config.secrets);
  const node = await startRuntimeNodeFromConfig(
    config,
    new HttpInvoker({ maxConcurrency: config.maxConcurrentInvocations, identity: credentials.identity }),
    log,
    credentials,
  );
  const ready: ChildReady = {
    pid: process.pid,
    ingressUrl: node.ingressUrl,
    adminUrl: node.adminUrl,
    startupMs: Date.now() - startedAtMs,
  };
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`);
  process.once("SIGTERM", () => {
    node.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`close failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster child failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
