/**
 * Entry of a crash-test runtime process: one runtime node (real timers, HTTP invoker) on ephemeral
 * ports over a data dir that outlives it, or over DynamoDB and S3 when the environment says
 * CAPSTAN_STORE=dynamodb (read by the runtime's own config). Prints one line, READY_PREFIX + JSON of
 * ChildReady, once recovery is done and the listeners are up; the parent kills it with SIGKILL.
 *
 * Usage: node -r ./swc-register.js runtime-child.ts <dataDir> <partitions>
 */
import { HttpInvoker, loadConfig, startRuntimeNode } from "@capstan/runtime";
import { openDynamoDbStores } from "../../../runtime/src/storage/dynamodb-stores";
import { READY_PREFIX, type ChildReady } from "./child-protocol";

/** Completed invocations without idempotency key are kept, so the oracle can read their output. */
const COMPLETED_RETENTION_MS = 60 * 60_000;

async function main(): Promise<void> {
  const [dataDir, partitionsArg] = process.argv.slice(2);
  const partitions = Number(partitionsArg);
  if (!dataDir || !Number.isInteger(partitions) || partitions < 1) {
    throw new Error("usage: runtime-child.ts <dataDir> <partitions>");
  }
  const startedAtMs = Date.now();
  const config = loadConfig();
  const stores =
    config.store.kind === "dynamodb"
      ? await openDynamoDbStores(config.store, { region: config.awsRegion, dataDir })
      : undefined;
  const node = await startRuntimeNode({
    ...(stores !== undefined && { stores }),
    dataDir,
    partitions,
    host: "127.0.0.1",
    ingressPort: 0,
    adminPort: 0,
    checkpointPort: 0,
    invoker: new HttpInvoker(),
    completedRetentionMs: COMPLETED_RETENTION_MS,
  });
  const ready: ChildReady = {
    pid: process.pid,
    ingressUrl: node.ingressUrl,
    adminUrl: node.adminUrl,
    startupMs: Date.now() - startedAtMs,
  };
  // stdout to a pipe is synchronous on Linux: once this returns the parent can read the line.
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`runtime child failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
