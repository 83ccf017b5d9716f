/**
 * The repository's own CDK app (what `npx cdk deploy` deploys): one CapstanRuntime and one
 * DurableFunction per example in handlers/src. Environment-agnostic, so synth makes no lookups and
 * works offline; the account and region come from the CLI's credentials at deploy.
 */
import path from "node:path";
import { Duration, Stack, type App, type StackProps } from "aws-cdk-lib";
import { DurableFunction } from "../function/durable-function";
import { CapstanRuntime } from "../runtime/capstan-runtime";
import { CapstanRuntimeImage } from "../runtime/runtime-image";
import { exampleFunctions } from "./example-functions";

export const EXAMPLE_STACK_NAME = "Capstan";

export interface ExampleStack {
  stack: Stack;
  runtime: CapstanRuntime;
  functions: Record<string, DurableFunction>;
}

/**
 * @example
 * const app = new App();
 * addCapstanChecks(app);
 * buildExampleApp(app, "/path/to/capstan");
 * app.synth();
 */
export function buildExampleApp(app: App, repoRoot: string, stackProps: StackProps = {}): ExampleStack {
  const stack = new Stack(app, EXAMPLE_STACK_NAME, {
    description: "Capstan: durable execution runtime and the example handlers",
    ...stackProps,
  });
  // The runtime compiled from this checkout, not the published package a user's app installs.
  const runtime = new CapstanRuntime(stack, "Runtime", {
    image: CapstanRuntimeImage.fromRepository(repoRoot),
  });
  const functions: Record<string, DurableFunction> = {};
  for (const example of exampleFunctions(path.join(repoRoot, "handlers", "src"))) {
    functions[example.name] = new DurableFunction(stack, pascalCase(example.name), {
      runtime,
      entry: example.entry,
      description: `Capstan example: ${example.name}`,
      ...(example.timeoutSeconds !== undefined && { timeout: Duration.seconds(example.timeoutSeconds) }),
      ...(example.memoryMb !== undefined && { memorySize: example.memoryMb }),
      ...(example.environment !== undefined && { environment: example.environment }),
      // Resolve @capstan/sdk to its source through the repository's paths, so a fresh clone
      // synthesizes without building the workspaces first.
      bundling: { tsconfig: path.join(repoRoot, "tsconfig.json") },
    });
  }
  return { stack, runtime, functions };
}

function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());
}
