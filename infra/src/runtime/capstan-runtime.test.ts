/**
 * CapstanRuntime's resources and the properties users rely on: where it runs, who can reach which
 * listener, what the container is told, what the task may do, and what outlives the stack.
 */
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as ecs from "aws-cdk-lib/aws-ecs";
import { MAX_CHECKPOINT_WAIT_MS } from "@capstan/sdk/protocol";
import { testStack, TEST_IMAGE, type TestStack } from "../test-support/test-stack";
import { CapstanRuntime } from "./capstan-runtime";
import * as limits from "./runtime-limits";
import { TTL_ATTRIBUTE } from "./runtime-storage";

function resourcesOf(
  template: Template,
  type: string,
): Array<[string, { Properties: Record<string, unknown> }]> {
  return Object.entries(template.findResources(type)) as Array<
    [string, { Properties: Record<string, unknown> }]
  >;
}

describe("CapstanRuntime", () => {
  let t: TestStack;
  let template: Template;
  beforeAll(() => {
    t = testStack();
    template = t.template();
  });

  test("runs on Fargate ARM64, two tasks at least, with a graceful stop and CPU auto scaling", () => {
    template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      RequiresCompatibilities: ["FARGATE"],
      RuntimePlatform: { CpuArchitecture: "ARM64", OperatingSystemFamily: "LINUX" },
      Cpu: String(limits.DEFAULT_CPU_UNITS),
      Memory: String(limits.DEFAULT_MEMORY_MIB),
      ContainerDefinitions: [
        Match.objectLike({
          Image: TEST_IMAGE,
          StopTimeout: limits.STOP_TIMEOUT_SECONDS,
          PortMappings: [
            Match.objectLike({ ContainerPort: limits.INGRESS_PORT }),
            Match.objectLike({ ContainerPort: limits.ADMIN_PORT }),
            Match.objectLike({ ContainerPort: limits.CHECKPOINT_PORT }),
            Match.objectLike({ ContainerPort: limits.PEER_PORT }),
          ],
          LogConfiguration: Match.objectLike({ LogDriver: "awslogs" }),
        }),
      ],
    });
    template.hasResourceProperties("AWS::ECS::Service", {
      DesiredCount: limits.DEFAULT_DESIRED_COUNT,
      LaunchType: "FARGATE",
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: "DISABLED" }) },
    });
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: limits.DEFAULT_DESIRED_COUNT,
      MaxCapacity: limits.DEFAULT_MAX_COUNT,
    });
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
        TargetValue: limits.DEFAULT_TARGET_CPU_PERCENT,
      }),
    });
    template.hasResourceProperties("AWS::ECS::Cluster", {
      ClusterSettings: [{ Name: "containerInsights", Value: "enhanced" }],
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  test("the container gets its configuration as environment and its credentials as ECS secrets", () => {
    const [, taskDef] = resourcesOf(template, "AWS::ECS::TaskDefinition")[0]!;
    const container = (taskDef.Properties.ContainerDefinitions as Array<Record<string, unknown>>)[0]!;
    const env = Object.fromEntries(
      (container.Environment as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]),
    );
    const tableId = Object.keys(template.findResources("AWS::DynamoDB::GlobalTable"))[0]!;
    const [bucketId] = resourcesOf(template, "AWS::S3::Bucket").find(
      ([, b]) => b.Properties.VersioningConfiguration,
    )!;
    const albId = Object.keys(template.findResources("AWS::ElasticLoadBalancingV2::LoadBalancer"))[0]!;
    expect(env).toEqual({
      CAPSTAN_STORE: "dynamodb",
      CAPSTAN_DYNAMODB_TABLE: { Ref: tableId },
      CAPSTAN_S3_BUCKET: { Ref: bucketId },
      AWS_REGION: { Ref: "AWS::Region" },
      CAPSTAN_HOST: "0.0.0.0",
      CAPSTAN_INGRESS_PORT: String(limits.INGRESS_PORT),
      CAPSTAN_ADMIN_PORT: String(limits.ADMIN_PORT),
      CAPSTAN_CHECKPOINT_PORT: String(limits.CHECKPOINT_PORT),
      CAPSTAN_PEER_PORT: String(limits.PEER_PORT),
      CAPSTAN_LEASE_MS: String(limits.DEFAULT_LEASE_MS),
      CAPSTAN_CHECKPOINT_URL: {
        "Fn::Join": ["", ["http://", { "Fn::GetAtt": [albId, "DNSName"] }, `:${limits.CHECKPOINT_PORT}`]],
      },
      CAPSTAN_LOG_FORMAT: "json",
      CAPSTAN_PARTITIONS: String(limits.DEFAULT_PARTITIONS),
    });
    const secretIds = Object.keys(template.findResources("AWS::SecretsManager::Secret"));
    const secrets = container.Secrets as Array<{ Name: string; ValueFrom: { Ref: string } }>;
    expect(secrets.map((s) => s.Name).sort()).toEqual([
      "CAPSTAN_ADMIN_TOKEN",
      "CAPSTAN_ATTEMPT_KEY",
      "CAPSTAN_CLUSTER_KEY",
      "CAPSTAN_IDENTITY_PRIVATE_KEY",
    ]);
    for (const s of secrets) expect(secretIds).toContain(s.ValueFrom.Ref);
    // No credential in plain environment, under any name.
    expect(JSON.stringify(container.Environment)).not.toMatch(/TOKEN|KEY"|SECRET/);
  });

  test("the peer port is reachable from the runtime's own tasks only, and not behind the ALB", () => {
    const serviceGroups = (
      resourcesOf(template, "AWS::ECS::Service")[0]![1].Properties.NetworkConfiguration as {
        AwsvpcConfiguration: { SecurityGroups: Array<{ "Fn::GetAtt": [string, string] }> };
      }
    ).AwsvpcConfiguration.SecurityGroups.map((g) => g["Fn::GetAtt"][0]);
    expect(serviceGroups).toHaveLength(1);
    const peerRules: Array<Record<string, unknown>> = [
      ...resourcesOf(template, "AWS::EC2::SecurityGroupIngress").map(([, r]) => r.Properties),
      ...resourcesOf(template, "AWS::EC2::SecurityGroup").flatMap(
        ([, g]) => (g.Properties.SecurityGroupIngress as Array<Record<string, unknown>> | undefined) ?? [],
      ),
    ].filter((r) => r.FromPort === limits.PEER_PORT || r.ToPort === limits.PEER_PORT);
    expect(peerRules).toEqual([
      expect.objectContaining({
        FromPort: limits.PEER_PORT,
        ToPort: limits.PEER_PORT,
        GroupId: { "Fn::GetAtt": [serviceGroups[0], "GroupId"] },
        SourceSecurityGroupId: { "Fn::GetAtt": [serviceGroups[0], "GroupId"] },
      }),
    ]);
    const listenerPorts = resourcesOf(template, "AWS::ElasticLoadBalancingV2::Listener").map(
      ([, l]) => l.Properties.Port,
    );
    expect(listenerPorts).not.toContain(limits.PEER_PORT);
  });

  test("an internal ALB: ingress, admin and checkpoint on their own listeners, none open to the world", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      Scheme: "internal",
      LoadBalancerAttributes: Match.arrayWith([
        { Key: "idle_timeout.timeout_seconds", Value: String(limits.LOAD_BALANCER_IDLE_TIMEOUT_SECONDS) },
      ]),
    });
    const ports = resourcesOf(template, "AWS::ElasticLoadBalancingV2::Listener").map(([, l]) => [
      l.Properties.Port,
      l.Properties.Protocol,
    ]);
    expect(ports.sort()).toEqual(
      [
        [limits.INGRESS_PORT, "HTTP"],
        [limits.ADMIN_PORT, "HTTP"],
        [limits.CHECKPOINT_PORT, "HTTP"],
      ].sort(),
    );
    // Every target group asks the node's readiness, on the admin port, for all three listeners.
    const groups = resourcesOf(template, "AWS::ElasticLoadBalancingV2::TargetGroup");
    expect(groups).toHaveLength(3);
    for (const [, g] of groups) {
      expect(g.Properties).toMatchObject({
        HealthCheckPath: limits.READY_PATH,
        HealthCheckPort: String(limits.ADMIN_PORT),
        TargetType: "ip",
      });
    }
    // Rules on the ALB's security group, inline or standalone.
    const [albSgId, albSg] = resourcesOf(template, "AWS::EC2::SecurityGroup").find(([id]) =>
      id.includes("LoadBalancerSecurityGroup"),
    )!;
    const rules = [
      ...((albSg.Properties.SecurityGroupIngress as Array<Record<string, unknown>> | undefined) ?? []),
      ...resourcesOf(template, "AWS::EC2::SecurityGroupIngress")
        .map(([, r]) => r.Properties)
        .filter((r) => JSON.stringify(r.GroupId).includes(albSgId)),
    ];
    expect(JSON.stringify(rules)).not.toContain("0.0.0.0/0");
    const fromCidr = rules.filter((r) => r.CidrIp !== undefined).map((r) => [r.CidrIp, r.FromPort]);
    expect(fromCidr.sort()).toEqual(
      [
        [limits.DEFAULT_VPC_CIDR, limits.INGRESS_PORT],
        [limits.DEFAULT_VPC_CIDR, limits.ADMIN_PORT],
      ].sort(),
    );
    // The checkpoint port admits security groups only (handler functions), never a CIDR.
    const checkpoint = rules.filter((r) => r.FromPort === limits.CHECKPOINT_PORT);
    expect(checkpoint.length).toBeGreaterThan(0);
    for (const r of checkpoint) expect(r.SourceSecurityGroupId).toBeDefined();
  });

  test("the log table: on-demand, point-in-time recovery, deletion protection, TTL, retained", () => {
    template.hasResource("AWS::DynamoDB::GlobalTable", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: Match.objectLike({
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });

  test("the snapshot bucket: encrypted, private, TLS only, access-logged, retained", () => {
    const buckets = resourcesOf(template, "AWS::S3::Bucket");
    expect(buckets).toHaveLength(2);
    for (const [, b] of buckets) {
      expect(b.Properties).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
    }
    const [snapshotsId, snapshots] = buckets.find(([, b]) => b.Properties.VersioningConfiguration)!;
    expect(snapshots.Properties.LoggingConfiguration).toMatchObject({ LogFilePrefix: "snapshots/" });
    template.hasResource("AWS::S3::Bucket", { DeletionPolicy: "Retain" });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: snapshotsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  test("the task role may touch only its table, its bucket's objects and the registered versions", () => {
    const taskRoleId = Object.entries(template.findResources("AWS::IAM::Role")).find(([id]) =>
      id.includes("TaskTaskRole"),
    )![0];
    const policies = resourcesOf(template, "AWS::IAM::Policy").filter(([, p]) =>
      JSON.stringify(p.Properties.Roles).includes(taskRoleId),
    );
    expect(policies).toHaveLength(1);
    const statements = (
      policies[0]![1].Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }
    ).Statement;
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[]);
    expect(actions.sort()).toEqual(
      [
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "lambda:InvokeFunction",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
      ].sort(),
    );
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"|"Action":"[a-z0-9]+:\*"/);
  });

  test("outputs the ingress and admin URLs", () => {
    const outputs = Object.values(template.findOutputs("*")).map((o) => JSON.stringify(o.Value));
    expect(outputs.some((v) => v.includes(`:${limits.INGRESS_PORT}`))).toBe(true);
    expect(outputs.some((v) => v.includes(`:${limits.ADMIN_PORT}`))).toBe(true);
  });
});

describe("CapstanRuntime limits", () => {
  const make = (props: ConstructorParameters<typeof CapstanRuntime>[2]) => () =>
    new CapstanRuntime(new Stack(new App(), "S"), "R", {
      image: ecs.ContainerImage.fromRegistry(TEST_IMAGE),
      ...props,
    });

  test("timeouts cover the checkpoint long-poll, and the stop timeout is Fargate's maximum", () => {
    expect(limits.LOAD_BALANCER_IDLE_TIMEOUT_SECONDS * 1000).toBeGreaterThan(MAX_CHECKPOINT_WAIT_MS);
    expect(limits.DEREGISTRATION_DELAY_SECONDS * 1000).toBeGreaterThan(MAX_CHECKPOINT_WAIT_MS);
    expect(limits.STOP_TIMEOUT_SECONDS).toBe(limits.MAX_FARGATE_STOP_TIMEOUT_SECONDS);
  });

  test("leaseMs in [MIN_LEASE_MS, MAX_LEASE_MS]: the stop timeout covers a lease and the handover", () => {
    expect(limits.MAX_LEASE_MS + limits.HANDOVER_MARGIN_SECONDS * 1000).toBeLessThanOrEqual(
      limits.STOP_TIMEOUT_SECONDS * 1000,
    );
    expect(limits.DEFAULT_LEASE_MS).toBeLessThanOrEqual(limits.MAX_LEASE_MS);
    expect(make({ leaseMs: limits.MAX_LEASE_MS })).not.toThrow();
    expect(make({ leaseMs: limits.MAX_LEASE_MS + 1 })).toThrow(/leaseMs/);
    expect(make({ leaseMs: limits.MIN_LEASE_MS })).not.toThrow();
    expect(make({ leaseMs: limits.MIN_LEASE_MS - 1 })).toThrow(/leaseMs/);
    expect(make({ leaseMs: 5_000.5 })).toThrow(/leaseMs/);
    const stack = new Stack(new App(), "Lease");
    new CapstanRuntime(stack, "R", { image: ecs.ContainerImage.fromRegistry(TEST_IMAGE), leaseMs: 20_000 });
    Template.fromStack(stack).hasResourceProperties("AWS::ECS::TaskDefinition", {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([{ Name: "CAPSTAN_LEASE_MS", Value: "20000" }]),
        }),
      ],
    });
  });

  test("desiredCount at least MIN_DESIRED_COUNT; partitions in [1, MAX_PARTITIONS]", () => {
    expect(make({ desiredCount: limits.MIN_DESIRED_COUNT })).not.toThrow();
    expect(make({ desiredCount: limits.MIN_DESIRED_COUNT - 1 })).toThrow(/desiredCount/);
    expect(make({ partitions: limits.MAX_PARTITIONS })).not.toThrow();
    expect(make({ partitions: limits.MAX_PARTITIONS + 1 })).toThrow(/partitions/);
    expect(make({ partitions: 0 })).toThrow(/partitions/);
  });

  test("a certificate needs its domain name; with both, every listener speaks HTTPS on that name", () => {
    const stack = new Stack(new App(), "Tls");
    const certificate = acm.Certificate.fromCertificateArn(
      stack,
      "Cert",
      "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
    );
    expect(make({ certificate })).toThrow(/certificate and domainName/);
    const runtime = new CapstanRuntime(stack, "R", {
      image: ecs.ContainerImage.fromRegistry(TEST_IMAGE),
      certificate,
      domainName: "capstan.internal.example.com",
    });
    expect(runtime.checkpointUrl).toBe(`https://capstan.internal.example.com:${limits.CHECKPOINT_PORT}`);
    const listeners = Template.fromStack(stack).findResources("AWS::ElasticLoadBalancingV2::Listener");
    expect(
      Object.values(listeners).map((l) => (l as { Properties: { Protocol: string } }).Properties.Protocol),
    ).toEqual(["HTTPS", "HTTPS", "HTTPS"]);
  });
});
