/**
 * `npm run deploy` (cdk deploy): the Capstan runtime on Fargate and one durable Lambda per function
 * under src/, registered with the runtime on every deploy. The runtime's container image is yours to
 * build and push (the Capstan repository's Dockerfile): `npm run deploy -- -c runtimeImage=<uri>`.
 */
import { App, Stack } from "aws-cdk-lib";
import { ContainerImage } from "aws-cdk-lib/aws-ecs";
import { addCapstanChecks, CapstanRuntime, DurableFunction } from "@capstan/infra";

const app = new App();
addCapstanChecks(app); // cdk-nag: synth fails on an unacknowledged finding
const runtimeImage: unknown = app.node.tryGetContext("runtimeImage");
if (typeof runtimeImage !== "string" || runtimeImage === "") {
  throw new Error("set the runtime's container image: npm run deploy -- -c runtimeImage=<image uri>");
}
const stack = new Stack(app, "{{stackName}}");
const runtime = new CapstanRuntime(stack, "Runtime", { image: ContainerImage.fromRegistry(runtimeImage) });
for (const fn of ["greeter", "cart", "signup"]) {
  new DurableFunction(stack, fn, { runtime, entry: `src/${fn}/handler.ts` });
}
