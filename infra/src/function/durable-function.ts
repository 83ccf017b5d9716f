/**
 * DurableFunction: a Lambda whose handler is a Capstan service, object or workflow. It is bundled
 * with esbuild (NodejsFunction), published as a new version on every code change, and registered
 * with the runtime by version: the runtime invokes only qualified version ARNs, and an invocation
 * stays on the version it started on until it finishes. So old versions are RETAINED (CDK's default
 * deletes them on the next deploy, stranding whatever is pinned to them); the registration custom
 * resource deletes each one once nothing is pinned to it.
 */
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { CustomResource } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { VPC_ACCESS_ROLE, BASIC_EXECUTION_ROLE } from "../nag/provider-acknowledgements";
import type { CapstanRuntime } from "../runtime/capstan-runtime";

/** Lambda's longest timeout; the runtime aborts an attempt before it (HandlerOptions.abortTimeoutMs). */
export const MAX_FUNCTION_TIMEOUT = Duration.minutes(15);
export const DEFAULT_FUNCTION_TIMEOUT = Duration.minutes(5);
export const DEFAULT_FUNCTION_MEMORY_MB = 512;
/** The oldest Node.js the SDK supports on Lambda; older runtimes are refused at synth. */
export const MIN_NODE_MAJOR = 22;
export const DEFAULT_FUNCTION_RUNTIME = lambda.Runtime.NODEJS_26_X;

export interface DurableFunctionProps {
  readonly runtime: CapstanRuntime;
  /** The file exporting the Lambda handler (`export const handler = lambdaHandler(service)`). */
  readonly entry: string;
  /** Exported name of the handler (default "handler"). */
  readonly handler?: string;
  readonly functionName?: string;
  readonly description?: string;
  /** One attempt's limit (default 5 minutes, at most 15). The SDK suspends before it runs out. */
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /** Your handler's own environment; Capstan adds CAPSTAN_IDENTITY_PUBLIC_KEYS. */
  readonly environment?: Record<string, string>;
  /** Node.js 22 or newer (default the newest aws-cdk-lib knows). */
  readonly lambdaRuntime?: lambda.Runtime;
  /** esbuild options (e.g. `tsconfig`, `externalModules`). */
  readonly bundling?: nodejs.BundlingOptions;
  /** Retention of the function's logs (default one month). */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Lambda's own retries of asynchronous invocations (default 0). The runtime invokes
   * synchronously and owns retries (the handler's retry policy, declared in code with
   * `service({ options: { retryPolicy } })`); a Lambda-level retry would run an attempt twice.
   */
  readonly retryAttempts?: number;
  /**
   * Keep the function out of the VPC. It cannot reach the checkpoint listener then: each attempt's
   * first checkpoint fails (after the SDK's connect timeout) and the SDK falls back to
   * request/response, suspending at every await (docs/sdk.md, Checkpoint failures). For handlers
   * that need the internet without a NAT gateway. Default false.
   */
  readonly outsideVpc?: boolean;
}

/**
 * @example
 * const checkout = new DurableFunction(stack, "Checkout", {
 *   runtime,
 *   entry: "handlers/src/checkout/handler.ts",
 *   timeout: Duration.seconds(60),
 *   memorySize: 256,
 * });
 * // cdk deploy: version N is published, then registered; the runtime routes Checkout to it.
 */
export class DurableFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** The version this deploy registers. */
  readonly version: lambda.Version;
  /** The registration custom resource (Custom::CapstanDeployment). */
  readonly registration: CustomResource;

  constructor(scope: Construct, id: string, props: DurableFunctionProps) {
    super(scope, id);
    const lambdaRuntime = props.lambdaRuntime ?? DEFAULT_FUNCTION_RUNTIME;
    validate(props, lambdaRuntime);
    const runtime = props.runtime;
    const inVpc = props.outsideVpc !== true;
    this.function = new nodejs.NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: props.handler ?? "handler",
      runtime: lambdaRuntime,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? DEFAULT_FUNCTION_TIMEOUT,
      memorySize: props.memorySize ?? DEFAULT_FUNCTION_MEMORY_MB,
      retryAttempts: props.retryAttempts ?? 0,
      ...(props.functionName !== undefined && { functionName: props.functionName }),
      ...(props.description !== undefined && { description: props.description }),
      environment: {
        ...props.environment,
        CAPSTAN_IDENTITY_PUBLIC_KEYS: runtime.secrets.identityPublicKey,
      },
      // keepNames: the SDK's errors carry literal names, but user code may rely on class names too.
      bundling: { keepNames: true, ...props.bundling },
      logGroup: new logs.LogGroup(this, "Logs", {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
      ...(inVpc && {
        vpc: runtime.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      }),
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    if (inVpc) runtime.allowCheckpoints(this.function);

    this.version = this.function.currentVersion;
    // Only the version: the runtime never invokes $LATEST or an alias.
    this.version.grantInvoke(runtime.taskRole);
    this.registration = runtime.registrar.register(this, "Registration", this.version);

    const v = Validations.of(this.function);
    v.acknowledge({
      id: `AwsSolutions-IAM4[${BASIC_EXECUTION_ROLE}]`,
      reason: "Lambda's managed policy for writing the function's own CloudWatch logs, and nothing else.",
    });
    if (inVpc) {
      v.acknowledge({
        id: `AwsSolutions-IAM4[${VPC_ACCESS_ROLE}]`,
        reason: "Lambda's managed policy for creating the network interfaces of a function in a VPC.",
      });
    }
  }

  /** The function's execution role, to grant what your handler's steps call. */
  get role(): lambda.IFunction["role"] {
    return this.function.role;
  }
}

function validate(props: DurableFunctionProps, lambdaRuntime: lambda.Runtime): void {
  const match = /^nodejs(\d+)\.x$/.exec(lambdaRuntime.name);
  if (match === null || Number(match[1]) < MIN_NODE_MAJOR) {
    throw new Error(
      `DurableFunction: lambdaRuntime must be Node.js ${MIN_NODE_MAJOR} or newer, got ${lambdaRuntime.name}`,
    );
  }
  if (props.timeout !== undefined && props.timeout.toSeconds() > MAX_FUNCTION_TIMEOUT.toSeconds()) {
    throw new Error(`DurableFunction: timeout must be at most ${MAX_FUNCTION_TIMEOUT.toMinutes()} minutes`);
  }
}
