/**
 * DurableFunction: what is deployed (ARM64, Node.js, bundled), that every version survives the next
 * deploy, that the runtime may invoke the version and nothing else, and that registration follows
 * the version. Also the runtime's CDK-style grants to other principals.
 */
import { App, Duration, Stack } from "aws-cdk-lib";
import { Match, type Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { CapstanRuntime } from "../runtime/capstan-runtime";
import { ADMIN_PORT, CHECKPOINT_PORT, INGRESS_PORT } from "../runtime/runtime-limits";
import { FIXTURE_ENTRY, TEST_IMAGE, testStack, type TestStack } from "../test-support/test-stack";
import { DEFAULT_FUNCTION_RUNTIME, DurableFunction, MAX_FUNCTION_TIMEOUT } from "./durable-function";

type Resource = { Properties: Record<string, unknown>; DependsOn?: string[]; DeletionPolicy?: string };

function only(template: Template, type: string, props: Record<string, unknown> = {}): [string, Resource] {
  const found = Object.entries(template.findResources(type, { Properties: props })) as Array<
    [string, Resource]
  >;
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe("DurableFunction", () => {
  let t: TestStack;
  let template: Template;
  let ops: lambda.Function;
  beforeAll(() => {
    t = testStack();
    // A second function, to show one registration provider serves every function of the runtime.
    new DurableFunction(t.stack, "Counter", {
      runtime: t.runtime,
      entry: FIXTURE_ENTRY,
      timeout: Duration.seconds(30),
    });
    ops = new lambda.Function(t.stack, "Ops", {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromInline("exports.handler = async () => 1;"),
      vpc: t.runtime.vpc,
    });
    t.runtime.grantInvokeIngress(ops);
    t.runtime.grantAdmin(ops);
    template = t.template();
  });

  const greeterFunctionId = (): string =>
    only(template, "AWS::Lambda::Function", {
      Description: Match.absent(),
      Handler: "index.handler",
      Timeout: 300,
    })[0];

  test("an ARM64 Node.js function in the runtime's VPC, told the runtime's identity public key", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Handler: "index.handler",
      Runtime: DEFAULT_FUNCTION_RUNTIME.name,
      Architectures: ["arm64"],
      Timeout: 300,
      MemorySize: 512,
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() }),
      Environment: {
        Variables: { CAPSTAN_IDENTITY_PUBLIC_KEYS: { "Fn::GetAtt": [Match.anyValue(), "PublicKey"] } },
      },
    });
    // The runtime owns retries: Lambda's own async retries would run an attempt twice.
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { MaximumRetryAttempts: 0 });
  });

  test("each published version is retained, so invocations pinned to it survive the next deploy", () => {
    const versions = Object.values(template.findResources("AWS::Lambda::Version")) as Resource[];
    expect(versions).toHaveLength(2);
    for (const v of versions) {
      expect(v.DeletionPolicy).toBe("Retain");
      expect((v as { UpdateReplacePolicy?: string }).UpdateReplacePolicy).toBe("Retain");
    }
  });

  test("the runtime may invoke the published version only: not $LATEST, not an alias, not *", () => {
    const fnId = greeterFunctionId();
    const [versionId] = only(template, "AWS::Lambda::Version", { FunctionName: { Ref: fnId } });
    const invokes = (Object.values(template.findResources("AWS::IAM::Policy")) as Resource[]).flatMap((p) =>
      (
        p.Properties.PolicyDocument as { Statement: Array<{ Action: unknown; Resource: unknown }> }
      ).Statement.filter(
        (s) =>
          JSON.stringify(s.Action).includes("lambda:InvokeFunction") &&
          JSON.stringify(s.Resource).includes(fnId),
      ),
    );
    expect(invokes).toEqual([]); // nobody is granted the function itself
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: "lambda:InvokeFunction", Effect: "Allow", Resource: { Ref: versionId } },
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp("TaskTaskRole") }],
    });
  });

  test("registration follows the version: its ARN is the property, and it waits for the version and the runtime", () => {
    const fnId = greeterFunctionId();
    const [versionId] = only(template, "AWS::Lambda::Version", { FunctionName: { Ref: fnId } });
    const [, registration] = only(template, "Custom::CapstanDeployment", { VersionArn: { Ref: versionId } });
    expect(registration.DependsOn).toEqual(expect.arrayContaining([versionId]));
    const serviceId = Object.keys(template.findResources("AWS::ECS::Service"))[0]!;
    expect(registration.DependsOn).toEqual(expect.arrayContaining([serviceId]));
    // One provider (isComplete polled by a state machine) for both functions.
    template.resourceCountIs("Custom::CapstanDeployment", 2);
    template.resourceCountIs("AWS::StepFunctions::StateMachine", 1);
    const serviceTokens = new Set(
      Object.values(template.findResources("Custom::CapstanDeployment")).map((r) =>
        JSON.stringify((r as Resource).Properties.ServiceToken),
      ),
    );
    expect(serviceTokens.size).toBe(1);
  });

  test("the registration handler reads the admin token and may delete this function's versions only", () => {
    const [isCompleteId] = only(template, "AWS::Lambda::Function", { Handler: "index.isComplete" });
    const role = (template.findResources("AWS::Lambda::Function")[isCompleteId] as Resource).Properties
      .Role as {
      "Fn::GetAtt": [string, string];
    };
    const policy = Object.values(template.findResources("AWS::IAM::Policy")).find((p) =>
      JSON.stringify((p as Resource).Properties.Roles).includes(role["Fn::GetAtt"][0]),
    ) as Resource;
    const statements = (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> })
      .Statement;
    expect(statements.map((s) => s.Action)).toEqual(
      expect.arrayContaining([
        ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "lambda:DeleteFunction",
      ]),
    );
    const deletes = statements.filter((s) => s.Action === "lambda:DeleteFunction");
    expect(deletes).toHaveLength(2);
    expect(deletes[0]!.Resource).toEqual({
      "Fn::Join": ["", [{ "Fn::GetAtt": [greeterFunctionId(), "Arn"] }, ":*"]],
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Handler: "index.isComplete",
      Environment: { Variables: { ADMIN_URL: Match.anyValue(), ADMIN_TOKEN_SECRET_ARN: Match.anyValue() } },
    });
  });

  test("functions reach the checkpoint listener; grants open ingress and admin to a peer", () => {
    const sgRules = Object.values(template.findResources("AWS::EC2::SecurityGroupIngress")).map(
      (r) => (r as Resource).Properties,
    );
    const opsSg = (
      t.stack.resolve((ops.connections.securityGroups[0] as ec2.SecurityGroup).securityGroupId) as {
        "Fn::GetAtt": [string, string];
      }
    )["Fn::GetAtt"][0];
    const fromOps = sgRules
      .filter((r) => JSON.stringify(r.SourceSecurityGroupId).includes(opsSg))
      .map((r) => r.FromPort);
    expect(fromOps.sort()).toEqual([INGRESS_PORT, ADMIN_PORT].sort());
    const checkpointSources = sgRules
      .filter((r) => r.FromPort === CHECKPOINT_PORT && JSON.stringify(r.GroupId).includes("LoadBalancer"))
      .map((r) => JSON.stringify(r.SourceSecurityGroupId));
    expect(checkpointSources).toHaveLength(2); // the two DurableFunctions' groups, nothing else
    expect(checkpointSources.every((s) => s.includes("FunctionSecurityGroup"))).toBe(true);
    // grantAdmin also lets the peer read the token it must present.
    const opsRole = (t.stack.resolve(ops.role!.roleName) as { Ref: string }).Ref;
    template.hasResourceProperties("AWS::IAM::Policy", {
      Roles: [{ Ref: opsRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"] }),
        ]),
      },
    });
  });
});

describe("DurableFunction limits", () => {
  const make = (props: Partial<ConstructorParameters<typeof DurableFunction>[2]>) => () => {
    const stack = new Stack(new App(), "S");
    const runtime = new CapstanRuntime(stack, "R", { image: ecs.ContainerImage.fromRegistry(TEST_IMAGE) });
    return new DurableFunction(stack, "F", { runtime, entry: FIXTURE_ENTRY, ...props });
  };

  test("timeout up to Lambda's 15 minutes; Node.js 22 or newer", () => {
    expect(make({ timeout: MAX_FUNCTION_TIMEOUT })).not.toThrow();
    expect(make({ timeout: MAX_FUNCTION_TIMEOUT.plus(Duration.seconds(1)) })).toThrow(/timeout/);
    expect(make({ lambdaRuntime: lambda.Runtime.NODEJS_22_X })).not.toThrow();
    expect(make({ lambdaRuntime: lambda.Runtime.NODEJS_20_X })).toThrow(/Node.js 22/);
  });
});
