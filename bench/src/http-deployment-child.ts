/**
 * The bench services as an HTTP deployment (`@capstan/sdk/http`), for the runtime to register with
 * `POST /deployments {"uri": ...}`. Prints `{"url": ...}` on stdout once listening.
 */
import { serve } from "@capstan/sdk/http";
import { bench, counter } from "../functions/bench/services";

async function main(): Promise<void> {
  const running = await serve({ services: [bench, counter], port: 0, host: "127.0.0.1" });
  running.server.keepAliveTimeout = 60_000;
  process.stdout.write(JSON.stringify({ url: running.url }) + "\n");
  process.on("SIGTERM", () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`http deployment failed: ${String(e)}\n`);
  process.exit(1);
});
