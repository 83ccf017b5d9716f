/**
 * The registration custom resource's provider: one per CapstanRuntime (so one per stack in the
 * usual app), shared by every DurableFunction. Its handlers run in the runtime's VPC, may reach only
 * the admin listener, read only the admin token, and delete only versions of the functions
 * registered through it.
 */
import { CustomResource, Duration, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { handlerEntry, handlerFunction } from "../handler-function";
import { acknowledgeProviderFramework, VPC_ACCESS_ROLE } from "../nag/provider-acknowledgements";
import type { CapstanRuntime } from "../runtime/capstan-runtime";
import { ADMIN_PORT } from "../runtime/runtime-limits";
import { ADMIN_REQUEST_TIMEOUT_MS } from "./admin-client";

/** How often the framework asks isComplete again, and how long before it gives up. */
export const REGISTRATION_POLL_INTERVAL = Duration.seconds(10);
export const REGISTRATION_TOTAL_TIMEOUT = Duration.minutes(30);
/**
 * One isComplete call makes a handful of bounded admin requests (register, services, deployments,
 * a query and a removal per superseded version); this leaves room for them and the secret read.
 */
export const REGISTRATION_HANDLER_TIMEOUT = Duration.millis(ADMIN_REQUEST_TIMEOUT_MS * 9);

/**
 * @example
 * const registration = runtime.registrar.register(this, "Registration", fn.currentVersion);
 */
export class Registrar extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly onEventHandler: lambda.IFunction;
  readonly isCompleteHandler: lambda.IFunction;
  readonly provider: cr.Provider;
  private readonly runtime: CapstanRuntime;

  constructor(scope: Construct, id: string, props: { runtime: CapstanRuntime }) {
    super(scope, id);
    const runtime = props.runtime;
    this.runtime = runtime;
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: runtime.vpc,
      description: "Capstan registration handlers: reach the admin listener",
    });
    runtime.loadBalancer.connections.allowFrom(
      this.securityGroup,
      ec2.Port.tcp(ADMIN_PORT),
      "Capstan registration",
    );
    const entry = handlerEntry(__dirname, "registration-handler");
    const common = {
      entry,
      vpc: runtime.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      environment: {
        ADMIN_URL: runtime.adminUrl,
        ADMIN_TOKEN_SECRET_ARN: runtime.secrets.adminToken.secretArn,
      },
    };
    this.onEventHandler = handlerFunction(this, "OnEvent", {
      ...common,
      handler: "onEvent",
      description: "Capstan: names a deployment registration",
    });
    this.isCompleteHandler = handlerFunction(this, "IsComplete", {
      ...common,
      handler: "isComplete",
      timeout: REGISTRATION_HANDLER_TIMEOUT,
      description: "Capstan: registers a function version with the runtime and prunes drained ones",
    });
    runtime.secrets.adminToken.grantRead(this.isCompleteHandler);
    this.provider = new cr.Provider(this, "Provider", {
      onEventHandler: this.onEventHandler,
      isCompleteHandler: this.isCompleteHandler,
      queryInterval: REGISTRATION_POLL_INTERVAL,
      totalTimeout: REGISTRATION_TOTAL_TIMEOUT,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        level: sfn.LogLevel.ALL,
        destination: new logs.LogGroup(this, "WaiterLogs", { retention: logs.RetentionDays.ONE_MONTH }),
      },
    });
    acknowledgeProviderFramework(this, this.provider, this.onEventHandler, this.isCompleteHandler);
    Validations.of(this.provider).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Step Functions' log delivery (logs:CreateLogDelivery and kin) works only on Resource *, per AWS's docs.",
    });
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM4[${VPC_ACCESS_ROLE}]`,
      reason: "Lambda's managed policy for creating the network interfaces of a function in a VPC.",
    });
  }

  /**
   * Registers `version` with the runtime: created after the version, the runtime and the invoke
   * grant, replaced (register new, retire old) whenever the version changes.
   */
  register(scope: Construct, id: string, version: lambda.IVersion): CustomResource {
    const fn = version.lambda;
    // Prune deletes superseded versions of this function: `<function ARN>:*` is exactly its versions.
    this.isCompleteHandler.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["lambda:DeleteFunction"], resources: [`${fn.functionArn}:*`] }),
    );
    const fnId = Stack.of(this).getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    Validations.of(this.isCompleteHandler).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: "Pruning deletes drained versions of this function, whose numbers are only known at run time.",
    });
    const resource = new CustomResource(scope, id, {
      serviceToken: this.provider.serviceToken,
      resourceType: "Custom::CapstanDeployment",
      properties: { VersionArn: version.functionArn },
    });
    resource.node.addDependency(version, this.runtime.service, this.runtime.taskRole);
    return resource;
  }
}
