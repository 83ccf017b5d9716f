/**
 * The repository's own app, synthesized as `npx cdk synth` does (cdk-nag's AwsSolutions checks on):
 * any unacknowledged finding fails the synth, and so this test. One synth, shared by every test.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { App, Stack, Token } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { addCapstanChecks } from "../nag/capstan-checks";
import { buildExampleApp, EXAMPLE_STACK_NAME, type ExampleStack } from "./example-app";

const REPO_ROOT = path.resolve(__dirname, "../../..");
const HANDLERS_DIR = path.join(REPO_ROOT, "handlers", "src");

describe("the repository's CDK app", () => {
  let outdir: string;
  let example: ExampleStack;
  let template: Template;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(os.tmpdir(), "capstan-cdk-"));
    const app = new App({ outdir });
    addCapstanChecks(app);
    example = buildExampleApp(app, REPO_ROOT);
    app.synth(); // throws ValidationFailed on any cdk-nag finding
    template = Template.fromStack(example.stack);
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test("synthesizes cdk-nag clean, environment-agnostic, with one DurableFunction per example", () => {
    expect(example.stack.stackName).toBe(EXAMPLE_STACK_NAME);
    expect(Token.isUnresolved(example.stack.region)).toBe(true); // no env: synth makes no lookups
    const examples = readdirSync(HANDLERS_DIR).filter((d) =>
      existsSync(path.join(HANDLERS_DIR, d, "handler.ts")),
    );
    expect(Object.keys(example.functions).sort()).toEqual(examples.sort());
    template.resourceCountIs("Custom::CapstanDeployment", examples.length);
    template.resourceCountIs("AWS::Lambda::Version", examples.length);
    template.resourceCountIs("AWS::ECS::Service", 1);
    // One provider for all registrations: a single isComplete handler in the stack.
    template.resourcePropertiesCountIs("AWS::Lambda::Function", { Handler: "index.isComplete" }, 1);
  });

  test("function.json settings reach the deployed function", () => {
    // handlers/src/checkout/function.json: { "timeoutSeconds": 60, "memoryMb": 256 }
    template.hasResourceProperties("AWS::Lambda::Function", {
      Description: "Capstan example: checkout",
      Timeout: 60,
      MemorySize: 256,
    });
  });

  test("the runtime's image is built from the repository's Dockerfile for ARM64", () => {
    const assets = JSON.parse(
      readFileSync(path.join(outdir, `${EXAMPLE_STACK_NAME}.assets.json`), "utf8"),
    ) as { dockerImages: Record<string, { source: { directory: string; platform?: string } }> };
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]!.source.platform).toBe("linux/arm64");
    const context = path.join(outdir, images[0]!.source.directory);
    // Only what the image needs is staged (.dockerignore): no node_modules, tests, docs or infra code.
    expect(existsSync(path.join(context, "Dockerfile"))).toBe(true);
    for (const present of [
      "runtime/src/cli/main.ts",
      "runtime/console/build.mjs",
      "sdk/src/index.ts",
      "package-lock.json",
    ]) {
      expect(existsSync(path.join(context, present))).toBe(true);
    }
    for (const absent of [
      "node_modules",
      "docs",
      "infra/src",
      "handlers/src",
      "test",
      "runtime/src/node.test.ts",
    ]) {
      expect(existsSync(path.join(context, absent))).toBe(false);
    }
    template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      RuntimePlatform: { CpuArchitecture: "ARM64", OperatingSystemFamily: "LINUX" },
      ContainerDefinitions: [Match.objectLike({ Image: Match.anyValue() })],
    });
  });

  test("every Lambda's bundle exports the handler its configuration names", () => {
    const functions = template.findResources("AWS::Lambda::Function") as Record<
      string,
      { Properties: { Handler?: string; Code?: { S3Key?: unknown } } }
    >;
    const checked: string[] = [];
    for (const fn of Object.values(functions)) {
      // A bundled asset's S3 key is `<hash>.zip`; the synth stages it as `asset.<hash>/`.
      const key = fn.Properties.Code?.S3Key;
      const handler = fn.Properties.Handler;
      if (typeof key !== "string" || handler === undefined || !handler.startsWith("index.")) continue;
      const code = readFileSync(path.join(outdir, `asset.${key.replace(/\.zip$/, "")}`, "index.js"), "utf8");
      // Evaluated with the repository's require: @aws-sdk/* is external, as the Lambda runtime provides it.
      const mod: { exports: Record<string, unknown> } = { exports: {} };
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the bundle this synth just built
      new Function("module", "exports", "require", code)(mod, mod.exports, require);
      const name = handler.slice("index.".length);
      expect(typeof mod.exports[name]).toBe("function");
      checked.push(name);
    }
    // The examples' handlers, and Capstan's own: the identity key's and registration's entry points.
    expect(checked.filter((n) => n === "handler").length).toBeGreaterThan(
      Object.keys(example.functions).length,
    );
    expect(checked).toEqual(expect.arrayContaining(["onEvent", "isComplete"]));
  });

  test("the cdk-nag gate fails a synth on an unacknowledged finding", () => {
    const carelessOutdir = mkdtempSync(path.join(os.tmpdir(), "capstan-cdk-nag-"));
    try {
      const app = new App({ outdir: carelessOutdir });
      addCapstanChecks(app);
      // A bucket without TLS enforcement or access logs: AwsSolutions-S1 and -S10.
      new s3.Bucket(new Stack(app, "Careless"), "Bucket");
      expect(() => app.synth()).toThrow(); // the findings are in the report
      const report = JSON.parse(
        readFileSync(path.join(carelessOutdir, "validation-report.json"), "utf8"),
      ) as {
        pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string }> }>;
      };
      const nag = report.pluginReports.find((r) => r.pluginName === "AwsSolutions");
      expect(nag?.violations.map((v) => v.ruleName).sort()).toEqual(["AwsSolutions-S1", "AwsSolutions-S10"]);
    } finally {
      rmSync(carelessOutdir, { recursive: true, force: true });
    }
  });
});
