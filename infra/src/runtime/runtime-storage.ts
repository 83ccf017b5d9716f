/**
 * Where the runtime keeps what must outlive its tasks: the log, fences, heartbeats and snapshot
 * pointers in one DynamoDB table (research wave2-aws §3.4), and snapshots in an S3 bucket. Both are
 * RETAINED by default: a `cdk destroy` must never take the durable log with it.
 */
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

/** Item attribute DynamoDB's TTL reads (heartbeats; a backstop under log trimming). */
export const TTL_ATTRIBUTE = "ttl";
const S3_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy";
/** Access logs are kept this long, then expire. */
export const ACCESS_LOG_RETENTION_DAYS = 90;
/** Superseded snapshot objects (the runtime keeps the newest two per partition) expire after this. */
export const NONCURRENT_SNAPSHOT_RETENTION_DAYS = 7;

export interface RuntimeStorageProps {
  removalPolicy: RemovalPolicy;
}

/**
 * @example
 * const storage = new RuntimeStorage(this, "Storage", { removalPolicy: RemovalPolicy.RETAIN });
 * storage.grantRuntime(taskRole);
 */
export class RuntimeStorage extends Construct {
  readonly table: dynamodb.TableV2;
  readonly snapshotBucket: s3.Bucket;
  /** Receives the snapshot bucket's server access logs (and the ALB's, when the region is known). */
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: RuntimeStorageProps) {
    super(scope, id);
    // Log delivery through a bucket policy, not the deprecated LogDeliveryWrite ACL, whatever
    // feature flags the user's app sets (a construct's context applies to its children).
    this.node.setContext(S3_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.table = new dynamodb.TableV2(this, "Table", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.NUMBER },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy,
    });

    this.accessLogsBucket = new s3.Bucket(this, "AccessLogs", {
      // SSE-S3: the only encryption S3 server access logs and ALB access logs can be delivered to.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS) }],
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: "AwsSolutions-S1",
      reason: "This is the access-log bucket itself; logging it into itself would loop.",
    });

    this.snapshotBucket = new s3.Bucket(this, "Snapshots", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: "snapshots/",
      lifecycleRules: [
        { noncurrentVersionExpiration: Duration.days(NONCURRENT_SNAPSHOT_RETENTION_DAYS) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy,
    });
  }

  /**
   * The runtime's data-plane access, action by action (no `grantReadWriteData`: it adds table
   * administration and index wildcards the runtime never uses).
   */
  grantRuntime(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
          "dynamodb:DeleteItem",
          "dynamodb:Query",
          "dynamodb:BatchWriteItem",
          "dynamodb:ConditionCheckItem",
          "dynamodb:DescribeTable",
        ],
        resources: [this.table.tableArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        resources: [this.snapshotBucket.arnForObjects("*")],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["s3:ListBucket"], resources: [this.snapshotBucket.bucketArn] }),
    );
  }

  /** The IAM5 finding `grantRuntime` raises, acknowledged on the policy that holds it. */
  acknowledgeObjectWildcard(policyScope: Construct): void {
    const bucketId = Stack.of(this).getLogicalId(this.snapshotBucket.node.defaultChild as s3.CfnBucket);
    Validations.of(policyScope).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason:
        "Snapshot and claim-check object keys are chosen at run time (snap/<partition>/<lsn>-<epoch>); " +
        "access is limited to objects of this one bucket.",
    });
  }
}
