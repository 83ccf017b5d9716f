/**
 * The VPC CapstanRuntime creates when the user brings none: private subnets with egress (tasks and
 * Lambdas reach DynamoDB, S3, Lambda and Secrets Manager through NAT), public subnets only for the
 * NAT gateways, and flow logs, since the runtime's traffic is the audit trail of who called it.
 */
import { RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

export interface RuntimeVpcOptions {
  /** A literal CIDR, so security-group rules derived from it stay literal (cdk-nag EC23 reads them). */
  cidr: string;
  maxAzs: number;
  natGateways: number;
  logRetention: logs.RetentionDays;
}

/**
 * @example
 * const vpc = createRuntimeVpc(this, "Vpc", { cidr: "10.0.0.0/16", maxAzs: 2, natGateways: 1,
 *   logRetention: logs.RetentionDays.ONE_MONTH });
 */
export function createRuntimeVpc(scope: Construct, id: string, options: RuntimeVpcOptions): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, id, {
    ipAddresses: ec2.IpAddresses.cidr(options.cidr),
    maxAzs: options.maxAzs,
    natGateways: options.natGateways,
    subnetConfiguration: [
      { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
    ],
  });
  const flowLogs = new logs.LogGroup(vpc, "FlowLogs", {
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  vpc.addFlowLog("FlowLog", { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) });
  return vpc;
}
