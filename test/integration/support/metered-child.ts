/**
 * Child process of the OTLP metrics export test: configured only through the environment, as a
 * deployed runtime is (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME), it runs one invocation whose
 * first attempt fails, shuts its telemetry down (which pushes the metrics once more) and prints the
 * invocation id.
 *
 * Usage: node -r ../../chaos/support/swc-register.js metered-child.ts
 */
import { service } from "@capstan/sdk";
import { createTelemetry, loadConfig } from "@capstan/runtime";
import { startTestEnvironment } from "@capstan/runtime/testing";

let attempts = 0;

const flaky = service({
  name: "Flaky",
  handlers: {
    once: async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("the first attempt fails");
      return "ok";
    },
  },
});

async function main(): Promise<void> {
  const telemetry = createTelemetry(loadConfig(), () => undefined);
  const env = await startTestEnvironment({ services: [flaky], telemetry });
  const id = await env.send("Flaky", "once", null);
  const output = await env.result(id);
  // While the runtime runs: this push has the gauges too (the one at shutdown has only counters).
  await telemetry.shutdown();
  await env.close();
  process.stdout.write(JSON.stringify({ id, output }) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`metered child failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
