/**
 * `npm run deploy` (cdk deploy): the Capstan runtime on Fargate and one durable Lambda per function
 * under src/, registered with the runtime on every deploy. The runtime's container image is built at
 * deploy from @capstan/runtime at the version of @capstan/infra (Docker needed for deploy, not for
 * `npx cdk synth`); `-c runtimeImage=<uri>` uses an image you built and pushed yourself instead.
 */
import { App, Stack } from "aws-cdk-lib";
import { ContainerImage } from "aws-cdk-lib/aws-ecs";
import { addCapstanChecks, CapstanRuntime, DurableFunction } from "@capstan/infra";

const app = new App();
addCapstanChecks(app); // cdk-nag: synth fails on an unacknowledged finding
const runtimeImage: unknown = app.node.tryGetContext("runtimeImage");
const image =
  typeof runtimeImage === "string" && runtimeImage !== ""
    ? ContainerImage.fromRegistry(runtimeImage)
    : undefined;
const stack = new Stack(app, "{{stackName}}");
const runtime = new CapstanRuntime(stack, "Runtime", image ? { image } : {});
for (const fn of ["greeter", "cart", "signup"]) {
  new DurableFunction(stack, fn, { runtime, entry: `src/${fn}/handler.ts` });
}
