/**
 * Child process of the OTLP export test: configured only through the environment, as a deployed
 * runtime is (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME), it runs one invocation that suspends
 * once, shuts its telemetry down (which exports the buffered spans) and prints the invocation id.
 *
 * Usage: node -r ../../chaos/support/swc-register.js traced-child.ts
 */
import { service } from "@capstan/sdk";
import { createTelemetry, loadConfig } from "@capstan/runtime";
import { startTestEnvironment } from "@capstan/runtime/testing";

const greeter = service({
  name: "Greeter",
  handlers: {
    greet: async (ctx, name: string) => {
      await ctx.sleep({ seconds: 1 });
      return `Hello, ${name}!`;
    },
  },
});

async function main(): Promise<void> {
  const telemetry = createTelemetry(loadConfig(), () => undefined);
  const env = await startTestEnvironment({ services: [greeter], telemetry });
  const id = await env.send("Greeter", "greet", "Ada");
  const output = await env.result(id);
  await env.close();
  await telemetry.tracing.shutdown();
  process.stdout.write(JSON.stringify({ id, output }) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`traced child failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
