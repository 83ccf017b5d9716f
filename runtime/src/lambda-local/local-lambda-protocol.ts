/** Messages between `capstan dev` and the local Lambda endpoint's own process (node IPC). */
import type { HandlerLogPage } from "../telemetry/handler-logs";
import type { FunctionBundle, PublishConfig } from "./function-registry";

export interface LocalLambdaProcessOptions {
  host: string;
  port: number;
  /** Execution environments (worker threads) per function version. */
  maxWorkers: number;
  /** Requests waiting for an environment before the endpoint throttles (429). */
  maxQueued: number;
  /** Where published versions are kept across restarts (FunctionRegistryOptions.versionsFile). */
  versionsFile?: string;
  /** Variables every function sees (FunctionRegistryOptions.baseEnvironment). */
  baseEnvironment?: Record<string, string>;
}

export type ParentMessage =
  | { type: "start"; options: LocalLambdaProcessOptions }
  | { type: "publish"; id: number; name: string; bundle: FunctionBundle; config: PublishConfig }
  | { type: "logs"; id: number; invocationId: string; afterSeq: number; limit: number }
  | { type: "close" };

export type ChildMessage =
  | { type: "ready"; url: string }
  | { type: "start-failed"; code: string | undefined; message: string }
  | { type: "published"; id: number; version: string }
  | { type: "publish-failed"; id: number; message: string }
  | { type: "logs-result"; id: number; page: HandlerLogPage }
  | { type: "closed" };
