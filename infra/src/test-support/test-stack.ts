/**
 * A small stack for the construct tests: one CapstanRuntime and one DurableFunction on a fixture
 * entry, with a prebuilt image so no Docker context is staged. Synthesized once per test file.
 */
import path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ecs from "aws-cdk-lib/aws-ecs";
import { DurableFunction, type DurableFunctionProps } from "../function/durable-function";
import { CapstanRuntime, type CapstanRuntimeProps } from "../runtime/capstan-runtime";

export const FIXTURE_ENTRY = path.join(__dirname, "fixture-function", "handler.ts");
export const TEST_IMAGE = "public.ecr.aws/capstan/runtime:test";

export interface TestStack {
  app: App;
  stack: Stack;
  runtime: CapstanRuntime;
  fn: DurableFunction;
  template: () => Template;
}

export function testStack(
  runtimeProps: CapstanRuntimeProps = {},
  functionProps: Partial<DurableFunctionProps> = {},
): TestStack {
  const app = new App();
  const stack = new Stack(app, "Test");
  const runtime = new CapstanRuntime(stack, "Runtime", {
    image: ecs.ContainerImage.fromRegistry(TEST_IMAGE),
    ...runtimeProps,
  });
  const fn = new DurableFunction(stack, "Greeter", { runtime, entry: FIXTURE_ENTRY, ...functionProps });
  let template: Template | undefined;
  return { app, stack, runtime, fn, template: () => (template ??= Template.fromStack(stack)) };
}
