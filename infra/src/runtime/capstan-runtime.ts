/**
 * CapstanRuntime: the Capstan runtime in the user's AWS account. Fargate tasks (ARM64) behind an
 * internal ALB with three listeners — ingress for callers, the checkpoint channel for handler
 * Lambdas, admin for operators and the registration custom resource — the log in DynamoDB,
 * snapshots in S3, credentials in Secrets Manager. Secure by default: nothing is reachable from
 * outside the VPC, admin only from the CIDRs the user allows.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Token, Validations } from "aws-cdk-lib";
import type * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import type * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { Registrar } from "../registration/registrar";
import { containerEnvironment, containerSecrets } from "./container-environment";
import * as limits from "./runtime-limits";
import { createRuntimeVpc } from "./runtime-network";
import { defaultRuntimeImage } from "./runtime-image";
import { RuntimeSecrets } from "./runtime-secrets";
import { RuntimeStorage } from "./runtime-storage";

export interface CapstanRuntimeProps {
  /** Default: a new VPC (two AZs, one NAT gateway, flow logs). */
  readonly vpc?: ec2.IVpc;
  /**
   * The VPC's CIDR as a literal string: of the new VPC, or of `vpc` (whose own CIDR is usually a
   * token, which security-group rules and cdk-nag cannot read). Default 10.0.0.0/16.
   */
  readonly vpcCidr?: string;
  /** NAT gateways of a new VPC (default 1; one per AZ survives an AZ outage). */
  readonly natGateways?: number;
  /** Tasks at rest (default 2, at least 1) and the most auto scaling may run (default 6). */
  readonly desiredCount?: number;
  readonly maxCount?: number;
  /** Fargate CPU units per task (1024 = 1 vCPU; default 1024) and memory in MiB (default 2048). */
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  /** Scale out above this average CPU (default 60). */
  readonly targetCpuPercent?: number;
  /** Partitions of the log. Fixed for the life of the table: choose it high (default 24). */
  readonly partitions?: number;
  /**
   * The runtime's container image. Default: `CapstanRuntimeImage.fromPackages()`, built at deploy
   * from the Docker context shipped in @capstan/infra, installing @capstan/runtime at the same
   * version from the npm registry (or from the tarballs in CAPSTAN_PACKAGES_DIR, read at synth).
   * The Capstan repository's app passes `CapstanRuntimeImage.fromRepository(root)`.
   */
  readonly image?: ecs.ContainerImage;
  /**
   * Partition lease duration in ms (CAPSTAN_LEASE_MS; default 10 000). Shorter: faster takeover
   * after a crash, more heartbeat writes. At most MAX_LEASE_MS, so the stop timeout covers a lease.
   */
  readonly leaseMs?: number;
  /**
   * Serve every listener over HTTPS with this certificate; `domainName` (which the certificate
   * covers, and which you point at the ALB) then names the URLs.
   */
  readonly certificate?: acm.ICertificate;
  readonly domainName?: string;
  /** Who may call the ingress listener, besides `grantInvokeIngress` peers. Default: the VPC CIDR. */
  readonly ingressAllowedCidrs?: string[];
  /** Who may call the admin listener, besides `grantAdmin` peers. Default: the VPC CIDR. */
  readonly adminAllowedCidrs?: string[];
  /** Retention of the runtime's logs (default one month). */
  readonly logRetention?: logs.RetentionDays;
  /** Of the table, the buckets and the secrets (default RETAIN: the durable log outlives the stack). */
  readonly removalPolicy?: RemovalPolicy;
  /** OTLP/HTTP collector the runtime exports traces to (OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly otlpEndpoint?: string;
}

/**
 * @example
 * const runtime = new CapstanRuntime(stack, "Capstan", { partitions: 32 });
 * new DurableFunction(stack, "Checkout", { runtime, entry: "handlers/src/checkout/handler.ts" });
 * runtime.grantInvokeIngress(apiFunction);  // network access to the ingress listener
 * runtime.grantAdmin(opsFunction);          // admin listener + read the admin token
 */
export class CapstanRuntime extends Construct {
  readonly vpc: ec2.IVpc;
  readonly storage: RuntimeStorage;
  readonly secrets: RuntimeSecrets;
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly logGroup: logs.LogGroup;
  /** Callers' base URL, e.g. `http://internal-….elb.amazonaws.com:8080`. */
  readonly ingressUrl: string;
  readonly adminUrl: string;
  /** What handlers are told to checkpoint to (CAPSTAN_CHECKPOINT_URL). */
  readonly checkpointUrl: string;
  private registrarInstance: Registrar | undefined;

  constructor(scope: Construct, id: string, props: CapstanRuntimeProps = {}) {
    super(scope, id);
    validateProps(props);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const vpcCidr = props.vpcCidr ?? (props.vpc ? props.vpc.vpcCidrBlock : limits.DEFAULT_VPC_CIDR);
    this.vpc =
      props.vpc ??
      createRuntimeVpc(this, "Vpc", {
        cidr: vpcCidr,
        maxAzs: 2,
        natGateways: props.natGateways ?? 1,
        logRetention,
      });

    this.storage = new RuntimeStorage(this, "Storage", { removalPolicy });
    this.secrets = new RuntimeSecrets(this, "Secrets", { removalPolicy });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, "LoadBalancer", {
      vpc: this.vpc,
      internetFacing: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      idleTimeout: Duration.seconds(limits.LOAD_BALANCER_IDLE_TIMEOUT_SECONDS),
      dropInvalidHeaderFields: true,
    });
    this.configureAccessLogs();
    const scheme = props.certificate ? "https" : "http";
    const host = props.domainName ?? this.loadBalancer.loadBalancerDnsName;
    const url = (port: number): string => `${scheme}://${host}:${port}`;
    this.ingressUrl = url(limits.INGRESS_PORT);
    this.adminUrl = url(limits.ADMIN_PORT);
    this.checkpointUrl = url(limits.CHECKPOINT_PORT);

    this.cluster = new ecs.Cluster(this, "Cluster", {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    this.logGroup = new logs.LogGroup(this, "Logs", { retention: logRetention, removalPolicy });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: props.cpu ?? limits.DEFAULT_CPU_UNITS,
      memoryLimitMiB: props.memoryLimitMiB ?? limits.DEFAULT_MEMORY_MIB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const container = this.taskDefinition.addContainer("runtime", {
      image: props.image ?? defaultRuntimeImage(),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: "capstan", logGroup: this.logGroup }),
      environment: containerEnvironment({
        tableName: this.storage.table.tableName,
        bucketName: this.storage.snapshotBucket.bucketName,
        region: Stack.of(this).region,
        checkpointUrl: this.checkpointUrl,
        partitions: props.partitions ?? limits.DEFAULT_PARTITIONS,
        leaseMs: props.leaseMs ?? limits.DEFAULT_LEASE_MS,
        ...(props.otlpEndpoint !== undefined && { otlpEndpoint: props.otlpEndpoint }),
      }),
      secrets: containerSecrets((s) => ecs.Secret.fromSecretsManager(s), this.secrets),
      portMappings: [limits.INGRESS_PORT, limits.ADMIN_PORT, limits.CHECKPOINT_PORT, limits.PEER_PORT].map(
        (containerPort) => ({ containerPort }),
      ),
      stopTimeout: Duration.seconds(limits.STOP_TIMEOUT_SECONDS),
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions-ECS2",
      reason:
        "Only non-secret configuration (table, bucket, ports, URLs) is set as plain environment; the " +
        "admin token and both keys come from Secrets Manager as ECS secrets.",
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "ecr:GetAuthorizationToken, which ECS's execution role needs to pull the image, has no resource scope.",
    });
    this.storage.grantRuntime(this.taskDefinition.taskRole);
    this.storage.acknowledgeObjectWildcard(this.taskDefinition.taskRole);

    const desiredCount = props.desiredCount ?? limits.DEFAULT_DESIRED_COUNT;
    this.service = new ecs.FargateService(this, "Service", {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount,
      // Replace tasks one new before one old, so partitions always have a node to move to.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      healthCheckGracePeriod: Duration.seconds(60),
    });
    // The peer listener: tasks reach each other directly (forwarding, remote appends), and nothing
    // else reaches it — not the load balancer, not handlers, not the VPC.
    // (An ingress rule only: the tasks' egress is already open.)
    for (const group of this.service.connections.securityGroups)
      group.addIngressRule(group, ec2.Port.tcp(limits.PEER_PORT), "Capstan peers");
    // A task must not start before its identity key exists in the secret.
    this.service.node.addDependency(this.secrets.identityKeyResource);
    this.service
      .autoScaleTaskCount({
        minCapacity: desiredCount,
        maxCapacity: Math.max(desiredCount, props.maxCount ?? limits.DEFAULT_MAX_COUNT),
      })
      .scaleOnCpuUtilization("Cpu", {
        targetUtilizationPercent: props.targetCpuPercent ?? limits.DEFAULT_TARGET_CPU_PERCENT,
      });

    const listen = (name: string, port: number): void => {
      const listener = this.loadBalancer.addListener(name, {
        port,
        open: false,
        ...(props.certificate
          ? {
              protocol: elbv2.ApplicationProtocol.HTTPS,
              certificates: [props.certificate],
              sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
            }
          : { protocol: elbv2.ApplicationProtocol.HTTP }),
      });
      listener.addTargets(name, {
        port,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targets: [
          this.service.loadBalancerTarget({ containerName: container.containerName, containerPort: port }),
        ],
        deregistrationDelay: Duration.seconds(limits.DEREGISTRATION_DELAY_SECONDS),
        // One readiness for all three: a node serves any listener only once it serves its partitions.
        healthCheck: {
          path: limits.READY_PATH,
          port: String(limits.ADMIN_PORT),
          healthyHttpCodes: "200",
          interval: Duration.seconds(10),
        },
      });
    };
    listen("Ingress", limits.INGRESS_PORT);
    listen("Admin", limits.ADMIN_PORT);
    listen("Checkpoint", limits.CHECKPOINT_PORT);
    for (const cidr of props.ingressAllowedCidrs ?? [vpcCidr]) {
      this.loadBalancer.connections.allowFrom(
        ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(limits.INGRESS_PORT),
        "Capstan ingress",
      );
    }
    for (const cidr of props.adminAllowedCidrs ?? [vpcCidr]) {
      this.loadBalancer.connections.allowFrom(
        ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(limits.ADMIN_PORT),
        "Capstan admin",
      );
    }

    new CfnOutput(this, "IngressUrl", {
      value: this.ingressUrl,
      description: "Capstan ingress (inside the VPC)",
    });
    new CfnOutput(this, "AdminUrl", {
      value: this.adminUrl,
      description: "Capstan admin API (inside the VPC)",
    });
    new CfnOutput(this, "AdminTokenSecret", {
      value: this.secrets.adminToken.secretArn,
      description: "Secrets Manager secret holding the admin API's bearer token",
    });
  }

  /** The role the runtime's tasks run as: what it may invoke and read. */
  get taskRole(): iam.IRole {
    return this.taskDefinition.taskRole;
  }

  /** The registration custom resource's provider: one per runtime, made on first use. */
  get registrar(): Registrar {
    this.registrarInstance ??= new Registrar(this, "Registrar", { runtime: this });
    return this.registrarInstance;
  }

  /**
   * Lets `peer` reach the ingress listener.
   *
   * @example runtime.grantInvokeIngress(apiHandler); // then POST {runtime.ingressUrl}/Greeter/greet
   */
  grantInvokeIngress(peer: ec2.IConnectable): void {
    this.loadBalancer.connections.allowFrom(peer, ec2.Port.tcp(limits.INGRESS_PORT), "Capstan ingress");
  }

  /**
   * Lets `grantee` reach the admin listener and read the admin token it must present.
   *
   * @example runtime.grantAdmin(opsLambda); // GET {runtime.adminUrl}/invocations with Bearer <token>
   */
  grantAdmin(grantee: ec2.IConnectable & iam.IGrantable): void {
    this.loadBalancer.connections.allowFrom(grantee, ec2.Port.tcp(limits.ADMIN_PORT), "Capstan admin");
    this.secrets.adminToken.grantRead(grantee);
  }

  /**
   * Lets handler Lambdas in `peer` reach the checkpoint listener (DurableFunction calls this).
   *
   * @example runtime.allowCheckpoints(fn);
   */
  allowCheckpoints(peer: ec2.IConnectable): void {
    this.loadBalancer.connections.allowFrom(
      peer,
      ec2.Port.tcp(limits.CHECKPOINT_PORT),
      "Capstan checkpoints",
    );
  }

  /**
   * ALB access logs need the stack's region at synth (the log-delivery principal differs by
   * region); an environment-agnostic stack cannot name it, so logging turns on when a region is set.
   */
  private configureAccessLogs(): void {
    if (!Token.isUnresolved(Stack.of(this).region)) {
      this.loadBalancer.logAccessLogs(this.storage.accessLogsBucket, "alb");
      return;
    }
    Validations.of(this.loadBalancer).acknowledge({
      id: "AwsSolutions-ELB2",
      reason:
        "Environment-agnostic stack: ALB access logs need a concrete region at synth. Set env.region on " +
        "the stack and CapstanRuntime turns them on (docs/deploy-aws.md).",
    });
  }
}

function validateProps(props: CapstanRuntimeProps): void {
  const check = (ok: boolean, message: string): void => {
    if (!ok) throw new Error(`CapstanRuntime: ${message}`);
  };
  const desired = props.desiredCount ?? limits.DEFAULT_DESIRED_COUNT;
  check(
    Number.isInteger(desired) && desired >= limits.MIN_DESIRED_COUNT,
    `desiredCount must be >= ${limits.MIN_DESIRED_COUNT}`,
  );
  const partitions = props.partitions ?? limits.DEFAULT_PARTITIONS;
  check(
    Number.isInteger(partitions) && partitions >= 1 && partitions <= limits.MAX_PARTITIONS,
    `partitions must be an integer in [1, ${limits.MAX_PARTITIONS}]`,
  );
  check(
    (props.certificate === undefined) === (props.domainName === undefined),
    "give certificate and domainName together",
  );
  const leaseMs = props.leaseMs ?? limits.DEFAULT_LEASE_MS;
  check(
    Number.isInteger(leaseMs) && leaseMs >= limits.MIN_LEASE_MS && leaseMs <= limits.MAX_LEASE_MS,
    `leaseMs must be an integer in [${limits.MIN_LEASE_MS}, ${limits.MAX_LEASE_MS}] (the stop timeout covers a lease)`,
  );
  check(props.vpcCidr === undefined || !Token.isUnresolved(props.vpcCidr), "vpcCidr must be a literal CIDR");
}
