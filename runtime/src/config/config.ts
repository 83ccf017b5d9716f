/**
 * The only reader of process.env in the runtime process: parsed and validated once, typed.
 */
import path from "node:path";
import { LOG_LEVELS, type LogLevel } from "../log";
import {
  DEFAULT_MAX_QUEUED_PER_FUNCTION,
  DEFAULT_MAX_WORKERS_PER_FUNCTION,
} from "../lambda-local/lambda-limits";

export interface RuntimeConfig {
  host: string;
  ingressPort: number;
  adminPort: number;
  /** Port of the local Lambda endpoint started by `capstan dev`. */
  lambdaPort: number;
  dataDir: string;
  partitions: number;
  logLevel: LogLevel;
  /** Base URL the SDK uses to reach the checkpoint endpoint; defaults to the admin listener. */
  checkpointBaseUrl: string | undefined;
  /** Lambda API endpoint (the local one in dev); undefined = AWS. */
  lambdaEndpoint: string | undefined;
  awsRegion: string;
  /** Concurrent handler attempts across all partitions. */
  maxConcurrentInvocations: number;
  /** How long completed invocations without idempotency key or workflow id stay queryable. */
  completedRetentionMs: number;
  /** Where `capstan dev` finds functions: one directory per function holding handler.ts. */
  handlersDir: string;
  /** Local Lambda endpoint: execution environments per function version, and requests queued beyond them. */
  lambdaMaxWorkers: number;
  lambdaMaxQueued: number;
}

export const DEFAULT_INGRESS_PORT = 8080;
export const DEFAULT_ADMIN_PORT = 9070;
export const DEFAULT_LAMBDA_PORT = 9090;
export const DEFAULT_PARTITIONS = 16;
export const MAX_PARTITIONS = 1024;
/** Completed invocations stay inspectable (describe, SQL, attach) this long by default. */
export const DEFAULT_COMPLETED_RETENTION_MS = 3_600_000;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "CONFIG_INVALID";
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${name}=${raw} is not a port (0-65535)`);
  return n;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${raw} must be an integer in [${min}, ${max}]`);
  }
  return n;
}

export function loadConfig(
  overrides: NodeJS.ProcessEnv = {},
  env: NodeJS.ProcessEnv = { ...process.env, ...overrides },
  cwd = process.cwd(),
): RuntimeConfig {
  const logLevel = env.CAPSTAN_LOG_LEVEL ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`CAPSTAN_LOG_LEVEL=${logLevel} must be one of ${LOG_LEVELS.join(", ")}`);
  }
  return {
    host: env.CAPSTAN_HOST ?? "127.0.0.1",
    ingressPort: port(env, "CAPSTAN_INGRESS_PORT", DEFAULT_INGRESS_PORT),
    adminPort: port(env, "CAPSTAN_ADMIN_PORT", DEFAULT_ADMIN_PORT),
    lambdaPort: port(env, "CAPSTAN_LAMBDA_PORT", DEFAULT_LAMBDA_PORT),
    dataDir: path.resolve(cwd, env.CAPSTAN_DATA_DIR ?? ".capstan"),
    partitions: int(env, "CAPSTAN_PARTITIONS", DEFAULT_PARTITIONS, 1, MAX_PARTITIONS),
    logLevel: logLevel as RuntimeConfig["logLevel"],
    checkpointBaseUrl: env.CAPSTAN_CHECKPOINT_URL || undefined,
    lambdaEndpoint: env.CAPSTAN_LAMBDA_ENDPOINT || undefined,
    awsRegion: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    maxConcurrentInvocations: int(env, "CAPSTAN_MAX_CONCURRENT_INVOCATIONS", 256, 1, 100_000),
    completedRetentionMs: int(
      env,
      "CAPSTAN_COMPLETED_RETENTION_MS",
      DEFAULT_COMPLETED_RETENTION_MS,
      0,
      30 * 24 * 3600_000,
    ),
    handlersDir: path.resolve(cwd, env.CAPSTAN_HANDLERS_DIR ?? "handlers/src"),
    lambdaMaxWorkers: int(env, "CAPSTAN_LAMBDA_MAX_WORKERS", DEFAULT_MAX_WORKERS_PER_FUNCTION, 1, 1000),
    lambdaMaxQueued: int(env, "CAPSTAN_LAMBDA_MAX_QUEUED", DEFAULT_MAX_QUEUED_PER_FUNCTION, 0, 100_000),
  };
}

export interface CliConfig {
  adminUrl: string;
  ingressUrl: string;
}

/** Where the CLI finds the runtime: flags win over CAPSTAN_ADMIN_URL / CAPSTAN_INGRESS_URL. */
export function loadCliConfig(
  flags: { adminUrl?: string; ingressUrl?: string },
  env: NodeJS.ProcessEnv = process.env,
): CliConfig {
  const strip = (u: string): string => u.replace(/\/+$/, "");
  return {
    adminUrl: strip(
      flags.adminUrl ??
        env.CAPSTAN_ADMIN_URL ??
        `http://127.0.0.1:${env.CAPSTAN_ADMIN_PORT || DEFAULT_ADMIN_PORT}`,
    ),
    ingressUrl: strip(
      flags.ingressUrl ??
        env.CAPSTAN_INGRESS_URL ??
        `http://127.0.0.1:${env.CAPSTAN_INGRESS_PORT || DEFAULT_INGRESS_PORT}`,
    ),
  };
}

/** `capstan dev --ingress-port 8081 ...`: flags override the matching environment variables. */
const FLAG_TO_ENV: Record<string, string> = {
  "ingress-port": "CAPSTAN_INGRESS_PORT",
  "admin-port": "CAPSTAN_ADMIN_PORT",
  "lambda-port": "CAPSTAN_LAMBDA_PORT",
  "data-dir": "CAPSTAN_DATA_DIR",
  "handlers-dir": "CAPSTAN_HANDLERS_DIR",
  partitions: "CAPSTAN_PARTITIONS",
  host: "CAPSTAN_HOST",
};

/** The environment overrides named by command-line flags, for `loadConfig`. */
export function configFlags(flags: ReadonlyMap<string, string | true>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of flags) {
    const variable = FLAG_TO_ENV[name];
    if (variable !== undefined && typeof value === "string") out[variable] = value;
  }
  return out;
}
