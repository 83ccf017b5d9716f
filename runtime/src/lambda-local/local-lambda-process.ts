/**
 * Runs the local Lambda endpoint in a child process (`local-lambda-main`) and publishes functions to
 * it over IPC. Falls back to running it in this process when the compiled entry is not available
 * (TypeScript sources under a test runner).
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { FunctionBundle, PublishConfig } from "./function-registry";
import { FunctionRegistry } from "./function-registry";
import { HandlerLogBuffer } from "./handler-log-buffer";
import type { HandlerLogPage, HandlerLogSource } from "../telemetry/handler-logs";
import { startLocalLambda } from "./lambda-endpoint";
import type { ChildMessage, LocalLambdaProcessOptions, ParentMessage } from "./local-lambda-protocol";

/** Startup of the child (node boot + listen). */
const START_TIMEOUT_MS = 30_000;

export interface LocalLambdaHandle {
  url: string;
  /** Publishes a built function; resolves with its new (or unchanged) version number. */
  publish(name: string, bundle: FunctionBundle, config: PublishConfig): Promise<string>;
  /** What the functions printed for one Capstan invocation (the endpoint keeps a bounded buffer). */
  handlerLogs: HandlerLogSource;
  close(): Promise<void>;
}

export async function startLocalLambdaProcess(
  options: LocalLambdaProcessOptions,
): Promise<LocalLambdaHandle> {
  const entry = path.join(__dirname, "local-lambda-main.js");
  if (!existsSync(entry)) return startInProcess(options);
  const child = fork(entry, [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("the local Lambda endpoint did not start in time")),
      START_TIMEOUT_MS,
    );
    const onMessage = (m: ChildMessage): void => {
      if (m.type !== "ready" && m.type !== "start-failed") return;
      clearTimeout(timer);
      child.off("message", onMessage);
      if (m.type === "ready") resolve(m.url);
      else reject(Object.assign(new Error(m.message), { code: m.code }));
    };
    child.on("message", onMessage);
    child.once("exit", (code) =>
      reject(new Error(`the local Lambda endpoint exited with ${code} during startup`)),
    );
    post(child, { type: "start", options });
  }).catch((e: unknown) => {
    child.kill("SIGKILL");
    throw e;
  });

  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  const reading = new Map<number, { resolve: (v: HandlerLogPage) => void; reject: (e: Error) => void }>();
  child.on("message", (m: ChildMessage) => {
    if (m.type === "logs-result") {
      reading.get(m.id)?.resolve(m.page);
      reading.delete(m.id);
      return;
    }
    if (m.type === "published") waiting.get(m.id)?.resolve(m.version);
    else if (m.type === "publish-failed") waiting.get(m.id)?.reject(new Error(m.message));
    else return;
    waiting.delete(m.id);
  });
  child.once("exit", (code) => {
    for (const w of [...waiting.values(), ...reading.values()])
      w.reject(new Error(`the local Lambda endpoint exited with ${code}`));
    waiting.clear();
    reading.clear();
  });
  return {
    url,
    publish(name, bundle, config) {
      if (!child.connected) return Promise.reject(new Error("the local Lambda endpoint has exited"));
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        post(child, { type: "publish", id, name, bundle, config });
      });
    },
    handlerLogs: {
      read(invocationId, afterSeq, limit) {
        if (!child.connected) return Promise.reject(new Error("the local Lambda endpoint has exited"));
        const id = nextId++;
        return new Promise<HandlerLogPage>((resolve, reject) => {
          reading.set(id, { resolve, reject });
          post(child, { type: "logs", id, invocationId, afterSeq, limit });
        });
      },
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      post(child, { type: "close" }); // without a channel it is exiting already (on disconnect)
      await exited;
    },
  };
}

/** A child that already exited is seen by its `exit` event; a failed send must not crash the parent. */
function post(child: ChildProcess, message: ParentMessage): void {
  if (child.connected) child.send(message, () => undefined);
}

async function startInProcess(options: LocalLambdaProcessOptions): Promise<LocalLambdaHandle> {
  const handlerLogs = new HandlerLogBuffer();
  const registry = new FunctionRegistry({
    handlerLogs,
    defaultMaxWorkers: options.maxWorkers,
    defaultMaxQueued: options.maxQueued,
    ...(options.versionsFile !== undefined && { versionsFile: options.versionsFile }),
    ...(options.baseEnvironment !== undefined && { baseEnvironment: options.baseEnvironment }),
  });
  const endpoint = await startLocalLambda({ registry, host: options.host, port: options.port });
  return {
    url: endpoint.url,
    publish: async (name, bundle, config) => (await registry.publish(name, bundle, config)).version,
    handlerLogs: { read: async (id, afterSeq, limit) => handlerLogs.read(id, afterSeq, limit) },
    async close() {
      await endpoint.close();
      await registry.close();
    },
  };
}
