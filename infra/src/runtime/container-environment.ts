/**
 * What the runtime container is told, by variable name. These names are read by
 * runtime/src/config/config.ts (CAPSTAN_STORE and the DynamoDB/S3 names come with the DynamoDB
 * store, the credentials with the authenticated channels, the peer port, cluster key and lease with
 * the cluster); nothing else in the container is configured, so this file is the whole contract
 * between the construct and `capstan serve`. CAPSTAN_NODE_ADDRESS is deliberately absent: each task
 * derives its own from the ECS task metadata (ECS_CONTAINER_METADATA_URI_V4) at start.
 */
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { ADMIN_PORT, CHECKPOINT_PORT, INGRESS_PORT, PEER_PORT } from "./runtime-limits";

export interface ContainerEnvironmentInput {
  tableName: string;
  bucketName: string;
  region: string;
  checkpointUrl: string;
  partitions: number;
  /** Partition lease duration (CAPSTAN_LEASE_MS). */
  leaseMs: number;
  otlpEndpoint?: string;
}

/**
 * @example
 * containerEnvironment({ tableName, bucketName, region, checkpointUrl, partitions: 24, leaseMs: 10_000 })
 *   .CAPSTAN_STORE;
 * // → "dynamodb"
 */
export function containerEnvironment(input: ContainerEnvironmentInput): Record<string, string> {
  return {
    CAPSTAN_STORE: "dynamodb",
    CAPSTAN_DYNAMODB_TABLE: input.tableName,
    CAPSTAN_S3_BUCKET: input.bucketName,
    AWS_REGION: input.region,
    // Inside a task the ALB reaches the container over the VPC; the security groups decide who can.
    CAPSTAN_HOST: "0.0.0.0",
    CAPSTAN_INGRESS_PORT: String(INGRESS_PORT),
    CAPSTAN_ADMIN_PORT: String(ADMIN_PORT),
    CAPSTAN_CHECKPOINT_PORT: String(CHECKPOINT_PORT),
    CAPSTAN_PEER_PORT: String(PEER_PORT),
    CAPSTAN_LEASE_MS: String(input.leaseMs),
    CAPSTAN_CHECKPOINT_URL: input.checkpointUrl,
    CAPSTAN_LOG_FORMAT: "json",
    CAPSTAN_PARTITIONS: String(input.partitions),
    ...(input.otlpEndpoint !== undefined && { OTEL_EXPORTER_OTLP_ENDPOINT: input.otlpEndpoint }),
  };
}

/** The ECS secrets, by the variable each lands in: every task of the service gets the same ones. */
export function containerSecrets(
  fromSecret: (secret: secretsmanager.ISecret) => ecs.Secret,
  secrets: {
    adminToken: secretsmanager.ISecret;
    attemptKey: secretsmanager.ISecret;
    identityKey: secretsmanager.ISecret;
    clusterKey: secretsmanager.ISecret;
  },
): Record<string, ecs.Secret> {
  return {
    CAPSTAN_ADMIN_TOKEN: fromSecret(secrets.adminToken),
    CAPSTAN_ATTEMPT_KEY: fromSecret(secrets.attemptKey),
    CAPSTAN_IDENTITY_PRIVATE_KEY: fromSecret(secrets.identityKey),
    CAPSTAN_CLUSTER_KEY: fromSecret(secrets.clusterKey),
  };
}
