/**
 * The crash suite on the AWS backend: each runtime child runs `CAPSTAN_STORE=dynamodb` against
 * DynamoDB Local and the S3 stand-in (both started here), is SIGKILLed under load and restarted; the
 * same oracle as on SQLite checks that nothing acknowledged was lost. Each restart claims every
 * partition with a higher epoch, so the killed incarnation is fenced out of the log as well. Every
 * other restart is on a new, empty data directory (another node, sharing only the cluster's
 * credentials): its partition state comes from the S3 snapshots and the log alone; the others find
 * the state files the killed incarnation left.
 *
 * Reproduce a schedule: CAPSTAN_CHAOS_SEED=<seed> npx jest test/chaos/dynamodb-crash-recovery.test.ts
 */
import { createCapstanTable } from "../../runtime/src/storage/dynamodb-table";
import {
  awsLocalChildEnv,
  startAwsLocal,
  type AwsLocal,
} from "../../runtime/src/storage/test-support/aws-local";
import { freshBucket } from "../../runtime/src/storage/test-support/s3-fixture";
import { describeCrashRecovery } from "./support/crash-suite";

const TABLE = "capstan-chaos";
let aws: AwsLocal | undefined;
let bucket = "";

describeCrashRecovery({
  title: "crash recovery under SIGKILL on DynamoDB + S3",
  testPath: "test/chaos/dynamodb-crash-recovery.test.ts",
  defaultKills: 2,
  extraTimeoutMs: 60_000,
  emptyDataDirRestarts: true,
  setup: async () => {
    aws = await startAwsLocal();
    await createCapstanTable(aws.dynamodb, TABLE);
    bucket = await freshBucket(aws.s3Client);
  },
  childEnv: () => awsLocalChildEnv(aws!, TABLE, bucket),
  teardown: async () => {
    await aws?.stop();
  },
});
