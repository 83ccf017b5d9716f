/**
 * The failover scenario's AWS stand-ins in one child process: DynamoDB Local (in memory) and the S3
 * stand-in — the very helpers `capstan dev --nodes` runs (runtime/src/dev/), loaded from the built
 * runtime, so the bench starts no second copy of them. Prints
 * `{"url": <DynamoDB endpoint>, "s3": <S3 endpoint>}` once both listen on 127.0.0.1; SIGTERM stops
 * both (DynamoDB Local's JVM with them).
 */
import { createRequire } from "node:module";
import path from "node:path";
import { REPO_ROOT } from "./children";

interface Stoppable {
  endpoint: string;
  stop(): Promise<void>;
}

const load = createRequire(__filename);
const { startDynamoDbLocal } = load(path.join(REPO_ROOT, "runtime/dist/dev/dynamodb-local.js")) as {
  startDynamoDbLocal(): Promise<Stoppable>;
};
const { startS3StandIn } = load(path.join(REPO_ROOT, "runtime/dist/dev/s3-stand-in.js")) as {
  startS3StandIn(): Promise<Stoppable>;
};

async function main(): Promise<void> {
  const [dynamodb, s3] = await Promise.all([startDynamoDbLocal(), startS3StandIn()]);
  process.stdout.write(JSON.stringify({ url: dynamodb.endpoint, s3: s3.endpoint }) + "\n");
  process.on("SIGTERM", () => {
    Promise.all([dynamodb.stop(), s3.stop()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`AWS stand-ins failed: ${String(e)}\n`);
  process.exit(1);
});
