/**
 * What the AWS-shaped run reads from the repository's synthesized CDK app: the runtime container's
 * environment and secret names, each example function's environment, the registration custom
 * resources' properties, and the registration handler's environment. Values CloudFormation would
 * resolve at deploy (a table name, a secret ARN) stay as their intrinsic (`{ Ref: … }`), so the
 * test decides what each stands for locally and fails on any it does not know.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildExampleApp } from "../../../infra/src/app/example-app";
import { addCapstanChecks } from "../../../infra/src/nag/capstan-checks";

/** A template value: a literal, or an intrinsic CloudFormation resolves at deploy. */
export type TemplateValue = string | Record<string, unknown>;

export interface RegistrationResource {
  logicalId: string;
  /** The example (handlers/src/<name>) whose current version it registers. */
  functionName: string;
  properties: Record<string, TemplateValue>;
}

export interface AwsTemplate {
  containerEnvironment: Record<string, TemplateValue>;
  /** Secret variable name → the secret's ARN intrinsic. */
  containerSecrets: Record<string, TemplateValue>;
  /** Example name → its Lambda environment. */
  functionEnvironments: Record<string, Record<string, TemplateValue>>;
  registrations: RegistrationResource[];
  /** The registration (isComplete) handler's Lambda environment. */
  registrationHandlerEnvironment: Record<string, TemplateValue>;
}

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

const EXAMPLE_DESCRIPTION = /^Capstan example: (.+)$/;

/** Synthesizes the app as `npx cdk synth` does (cdk-nag on) into a temporary directory. */
export function synthesizeExampleApp(repoRoot: string): AwsTemplate {
  const outdir = mkdtempSync(path.join(os.tmpdir(), "capstan-aws-shaped-cdk-"));
  try {
    const app = new App({ outdir });
    addCapstanChecks(app);
    const { stack } = buildExampleApp(app, repoRoot);
    app.synth();
    return readTemplate(Template.fromStack(stack).toJSON() as { Resources: Record<string, CfnResource> });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function readTemplate(template: { Resources: Record<string, CfnResource> }): AwsTemplate {
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);

  const taskDefinitions = ofType("AWS::ECS::TaskDefinition");
  if (taskDefinitions.length !== 1)
    throw new Error(`expected one task definition, got ${taskDefinitions.length}`);
  const containers = taskDefinitions[0]![1].Properties.ContainerDefinitions as Array<{
    Environment?: Array<{ Name: string; Value: TemplateValue }>;
    Secrets?: Array<{ Name: string; ValueFrom: TemplateValue }>;
  }>;
  if (containers.length !== 1) throw new Error(`expected one container, got ${containers.length}`);
  const container = containers[0]!;

  const functions = ofType("AWS::Lambda::Function");
  const lambdaEnvironment = (props: Record<string, unknown>): Record<string, TemplateValue> =>
    (props.Environment as { Variables?: Record<string, TemplateValue> } | undefined)?.Variables ?? {};
  const exampleByFunctionId = new Map<string, string>();
  const functionEnvironments: Record<string, Record<string, TemplateValue>> = {};
  for (const [id, fn] of functions) {
    const name = EXAMPLE_DESCRIPTION.exec(
      typeof fn.Properties.Description === "string" ? fn.Properties.Description : "",
    )?.[1];
    if (name === undefined) continue;
    exampleByFunctionId.set(id, name);
    functionEnvironments[name] = lambdaEnvironment(fn.Properties);
  }
  const isComplete = functions.filter(([, fn]) => fn.Properties.Handler === "index.isComplete");
  if (isComplete.length !== 1) throw new Error(`expected one isComplete handler, got ${isComplete.length}`);

  const versions = new Map(ofType("AWS::Lambda::Version"));
  const registrations = ofType("Custom::CapstanDeployment").map(([logicalId, r]) => {
    const versionRef = (r.Properties.VersionArn as { Ref?: string }).Ref;
    const fnRef = (versions.get(versionRef ?? "")?.Properties.FunctionName as { Ref?: string } | undefined)
      ?.Ref;
    const functionName = exampleByFunctionId.get(fnRef ?? "");
    if (functionName === undefined) throw new Error(`${logicalId}: VersionArn names no example's version`);
    return { logicalId, functionName, properties: r.Properties as Record<string, TemplateValue> };
  });

  return {
    containerEnvironment: Object.fromEntries((container.Environment ?? []).map((e) => [e.Name, e.Value])),
    containerSecrets: Object.fromEntries((container.Secrets ?? []).map((s) => [s.Name, s.ValueFrom])),
    functionEnvironments,
    registrations,
    registrationHandlerEnvironment: lambdaEnvironment(isComplete[0]![1].Properties),
  };
}

/**
 * Replaces each intrinsic in `values` by what `local` gives for its variable; a literal is kept.
 * An intrinsic without a local stand-in throws: the test must not start on a guess.
 */
export function resolveLocally(
  values: Record<string, TemplateValue>,
  local: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => {
      if (typeof value === "string") return [name, value];
      const stand = local[name];
      if (stand === undefined) throw new Error(`${name} is ${JSON.stringify(value)}: no local stand-in`);
      return [name, stand];
    }),
  );
}
