/**
 * Entry of the local Lambda endpoint's own process, started by `capstan dev`. Handlers run in worker
 * threads of this process, so a handler that exhausts memory or blocks its event loop cannot take the
 * runtime down, and the runtime's memory and CPU are measured apart from the handlers', as on AWS.
 *
 * This process's own thread, which relays requests, keeps the runtime's priority; each execution
 * environment's thread lowers its own (`HANDLER_THREAD_NICE`, worker-entry.ts): on AWS handlers run
 * on other machines, but here they share the cores with the runtime, and a woken worker thread would
 * otherwise preempt the runtime's event loop in the middle of a turn (every checkpoint reply wakes
 * one). See ADR 0004.
 */
import { setFlagsFromString } from "node:v8";
import { FunctionRegistry } from "./function-registry";
import { HandlerLogBuffer } from "./handler-log-buffer";
import { startLocalLambda, type LocalLambda } from "./lambda-endpoint";
import type { ChildMessage, ParentMessage } from "./local-lambda-protocol";

/**
 * V8's tier-up budget (bytecode run between the profiler's ticks) in this process: about 1/8 of V8's
 * default (67584). Each execution environment is an isolate of its own that optimizes its code from
 * the traffic it alone sees, and the default left a default function's environments in unoptimized
 * code for minutes of steady load. Set before any worker starts; V8 flags hold for every isolate of
 * the process. See ADR 0004.
 */
const ENVIRONMENT_INTERRUPT_BUDGET = 8_000;
setFlagsFromString(`--interrupt-budget=${ENVIRONMENT_INTERRUPT_BUDGET}`);

let registry: FunctionRegistry | undefined;
let endpoint: LocalLambda | undefined;
/** What the functions' Capstan invocations printed, for the runtime's `GET /invocations/:id/logs`. */
const handlerLogs = new HandlerLogBuffer();

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function onMessage(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case "start": {
      const { host, port, maxWorkers, maxQueued, versionsFile, baseEnvironment } = message.options;
      try {
        registry = new FunctionRegistry({
          defaultMaxWorkers: maxWorkers,
          defaultMaxQueued: maxQueued,
          ...(versionsFile !== undefined && { versionsFile }),
          ...(baseEnvironment !== undefined && { baseEnvironment }),
          handlerLogs,
        });
        endpoint = await startLocalLambda({ registry, host, port });
        send({ type: "ready", url: endpoint.url });
      } catch (e) {
        send({
          type: "start-failed",
          code: (e as NodeJS.ErrnoException).code,
          message: (e as Error).message,
        });
      }
      return;
    }
    case "publish":
      try {
        if (!registry) throw new Error("the local Lambda endpoint is not started");
        const version = await registry.publish(message.name, message.bundle, message.config);
        send({ type: "published", id: message.id, version: version.version });
      } catch (e) {
        send({ type: "publish-failed", id: message.id, message: (e as Error).message });
      }
      return;
    case "logs":
      send({
        type: "logs-result",
        id: message.id,
        page: handlerLogs.read(message.invocationId, message.afterSeq, message.limit),
      });
      return;
    case "close":
      await endpoint?.close();
      await registry?.close();
      send({ type: "closed" });
      process.disconnect?.();
      return;
  }
}

process.on("message", (m: ParentMessage) => void onMessage(m));
// The parent died (even by SIGKILL): the IPC channel closes, and this process must not outlive it.
process.on("disconnect", () => process.exit(0));
// Ctrl-C, or SIGTERM to the whole process group, reaches this process too: the parent drains the
// runtime first and then closes this endpoint (in-flight invocations finish), so the signal is its.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => undefined);
