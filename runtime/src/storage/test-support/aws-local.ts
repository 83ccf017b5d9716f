/**
 * The AWS backend's local stand-ins side by side: DynamoDB Local and the S3 stand-in, a client for
 * each, and the environment a runtime child needs to run `CAPSTAN_STORE=dynamodb` on them. Every test
 * of the AWS backend (storage contracts, cluster nodes, the chaos and integration suites) starts the
 * same pair; one place starts them, and stops whichever did start when the other fails.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { localDynamoDbClient } from "./dynamodb-fixture";
import { startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local";
import { localS3Client } from "./s3-fixture";
import { startS3StandIn, type S3StandIn } from "./s3-stand-in";

/** DynamoDB Local and the S3 stand-in, with a client for each. */
export interface AwsLocal {
  readonly ddb: DynamoDbLocal;
  readonly s3: S3StandIn;
  readonly dynamodb: DynamoDBClient;
  readonly s3Client: S3Client;
  /** Destroys the clients and stops both processes. */
  stop(): Promise<void>;
}

/** Starts both at once; if one fails, the other is stopped before the error is thrown. */
export async function startAwsLocal(): Promise<AwsLocal> {
  const [ddbResult, s3Result] = await Promise.allSettled([startDynamoDbLocal(), startS3StandIn()]);
  if (ddbResult.status === "rejected" || s3Result.status === "rejected") {
    await Promise.all([
      ddbResult.status === "fulfilled" ? ddbResult.value.stop() : undefined,
      s3Result.status === "fulfilled" ? s3Result.value.stop() : undefined,
    ]);
    throw ddbResult.status === "rejected" ? ddbResult.reason : (s3Result as PromiseRejectedResult).reason;
  }
  const ddb = ddbResult.value;
  const s3 = s3Result.value;
  const dynamodb = localDynamoDbClient(ddb.endpoint);
  const s3Client = localS3Client(s3.endpoint);
  return {
    ddb,
    s3,
    dynamodb,
    s3Client,
    stop: async () => {
      dynamodb.destroy();
      s3Client.destroy();
      await Promise.all([ddb.stop(), s3.stop()]);
    },
  };
}

/** What a runtime child needs to run `CAPSTAN_STORE=dynamodb` on `table` and `bucket` of `aws`. */
export function awsLocalChildEnv(aws: AwsLocal, table: string, bucket: string): NodeJS.ProcessEnv {
  return {
    CAPSTAN_STORE: "dynamodb",
    CAPSTAN_DYNAMODB_TABLE: table,
    CAPSTAN_DYNAMODB_ENDPOINT: aws.ddb.endpoint,
    CAPSTAN_S3_BUCKET: bucket,
    CAPSTAN_S3_ENDPOINT: aws.s3.endpoint,
    AWS_REGION: "us-east-1",
    // DynamoDB Local and the stand-in accept any credentials; the SDK needs some.
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  };
}
