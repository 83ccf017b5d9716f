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
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { createCapstanTable } from "../../runtime/src/storage/dynamodb-table";
import { localDynamoDbClient } from "../../runtime/src/storage/test-support/dynamodb-fixture";
import {
  startDynamoDbLocal,
  type DynamoDbLocal,
} from "../../runtime/src/storage/test-support/dynamodb-local";
import { freshBucket, localS3Client } from "../../runtime/src/storage/test-support/s3-fixture";
import { startS3StandIn, type S3StandIn } from "../../runtime/src/storage/test-support/s3-stand-in";
import { describeCrashRecovery } from "./support/crash-suite";

const TABLE = "capstan-chaos";
let ddb: DynamoDbLocal | undefined;
let s3: S3StandIn | undefined;
let dynamodb: DynamoDBClient | undefined;
let s3Client: S3Client | undefined;
let bucket = "";

describeCrashRecovery({
  title: "crash recovery under SIGKILL on DynamoDB + S3",
  testPath: "test/chaos/dynamodb-crash-recovery.test.ts",
  defaultKills: 2,
  extraTimeoutMs: 60_000,
  emptyDataDirRestarts: true,
  setup: async () => {
    [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3StandIn()]);
    dynamodb = localDynamoDbClient(ddb.endpoint);
    s3Client = localS3Client(s3.endpoint);
    await createCapstanTable(dynamodb, TABLE);
    bucket = await freshBucket(s3Client);
  },
  childEnv: () => ({
    CAPSTAN_STORE: "dynamodb",
    CAPSTAN_DYNAMODB_TABLE: TABLE,
    CAPSTAN_DYNAMODB_ENDPOINT: ddb!.endpoint,
    CAPSTAN_S3_BUCKET: bucket,
    CAPSTAN_S3_ENDPOINT: s3!.endpoint,
    AWS_REGION: "us-east-1",
    // DynamoDB Local and the stand-in accept any credentials; the SDK needs some.
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  }),
  teardown: async () => {
    dynamodb?.destroy();
    s3Client?.destroy();
    await Promise.all([ddb?.stop(), s3?.stop()]);
  },
});
