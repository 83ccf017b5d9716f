/**
 * The only reader of process.env in the runtime process: parsed and validated once, typed.
 */
import { createPrivateKey } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log";
import { MIN_ATTEMPT_KEY_BYTES } from "../security/attempt-credentials";
import { MIN_CLUSTER_KEY_BYTES } from "../security/peer-auth";
import { DEFAULT_LEASE_DURATION_MS } from "../cluster/lease-coordinator";
import { readSecret } from "../security/key-files";
import { ADMIN_TOKEN_FILE, type ConfiguredSecrets } from "../security/node-credentials";
import {
  DEFAULT_REGISTRATION_ALLOW,
  parseRegistrationAllow,
  type RegistrationAllowList,
} from "../server/registration-allow";
import {
  DEFAULT_MAX_QUEUED_PER_FUNCTION,
  DEFAULT_MAX_WORKERS_PER_FUNCTION,
} from "../lambda-local/lambda-limits";

export interface RuntimeConfig {
  host: string;
  ingressPort: number;
  adminPort: number;
  /** The checkpoint listener: the only one handlers must reach. */
  checkpointPort: number;
  /** Port of the local Lambda endpoint started by `capstan dev`. */
  lambdaPort: number;
  dataDir: string;
  partitions: number;
  logLevel: LogLevel;
  /** `text` for a terminal (default), `json` (one object per line) for CloudWatch and collectors. */
  logFormat: LogFormat;
  /** Where spans go over OTLP/HTTP (JSON); undefined = tracing off. */
  tracesEndpoint: string | undefined;
  /** Resource `service.name` of the runtime's spans. */
  serviceName: string;
  /** Where metrics are pushed over OTLP/HTTP (JSON) and how often; undefined = no export. */
  /** `headers`: OTEL_EXPORTER_OTLP_(METRICS_)HEADERS (a backend's API key: never printed). */
  metricsExport: { url: string; intervalMs: number; headers?: Record<string, string> } | undefined;
  /** Secrets given by the environment; the others are kept in the data directory. Never logged. */
  secrets: ConfiguredSecrets;
  /** Base URL the SDK uses to reach the checkpoint endpoint; defaults to the checkpoint listener. */
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
  /** Where the log and snapshots live: the embedded SQLite file, or DynamoDB and S3. */
  store: StoreConfig;
  /**
   * Where partition state lives with the embedded store (CAPSTAN_STATE_STORE): `sqlite` (one file per
   * partition, ADR 0013, the default) or `memory` (ADR 0002: in the heap, snapshotted whole as JSON;
   * memory grows with the state — a comparison and legacy option, see STATE_STORE_KINDS).
   */
  stateStore: StateStoreKind;
  /** This node's name in fences and membership (CAPSTAN_NODE_ID); default: one per process start. */
  nodeId: string | undefined;
  /** Cluster mode (CAPSTAN_STORE=dynamodb): the peer listener's port, for node-to-node traffic. */
  peerPort: number;
  /** The base URL other nodes reach this node's peer listener at; default: the listener's own URL. */
  nodeAddress: string | undefined;
  /** Cluster mode: a node whose heartbeat stood still this long is dead; its partitions move. */
  leaseDurationMs: number;
  /** Caller headers never stored nor forwarded to handlers, besides the built-in credential headers. */
  sensitiveHeaders: string[];
  /** Keys the ingress accepts (`Authorization: Bearer` or `x-api-key`); empty = no authentication. */
  ingressApiKeys: string[];
  /** Deployments the admin API may register. */
  registrationAllow: RegistrationAllowList;
}

/** `CAPSTAN_STORE`: `sqlite` (default, one node, `CAPSTAN_DATA_DIR`) or `dynamodb` (log in DynamoDB, snapshots in S3). */
export type StoreConfig =
  | { kind: "sqlite" }
  | {
      kind: "dynamodb";
      tableName: string;
      /** A DynamoDB-API endpoint (DynamoDB Local) instead of AWS. */
      endpoint: string | undefined;
      s3Bucket: string;
      /** An S3-API endpoint instead of AWS (path-style addressing). */
      s3Endpoint: string | undefined;
    };

export const STORE_KINDS = ["sqlite", "dynamodb"] as const;

/**
 * `CAPSTAN_STATE_STORE`: `sqlite` (default) keeps each partition's state in its own file; `memory`
 * keeps it in the heap as before ADR 0013 (memory grows with keys and retained invocations; for
 * paired comparisons in the bench and for old data directories). Only with `CAPSTAN_STORE=sqlite`.
 */
export const STATE_STORE_KINDS = ["sqlite", "memory"] as const;
export type StateStoreKind = (typeof STATE_STORE_KINDS)[number];

export const DEFAULT_INGRESS_PORT = 8080;
export const DEFAULT_ADMIN_PORT = 9070;
export const DEFAULT_CHECKPOINT_PORT = 9071;
/** The peer listener (node-to-node traffic of a cluster). */
export const DEFAULT_PEER_PORT = 9072;
/** Bounds of CAPSTAN_LEASE_MS: below, heartbeats (every lease / 3) would flood the table; above, failover waits too long. */
export const MIN_LEASE_MS = 300;
export const MAX_LEASE_MS = 600_000;
/** A configured admin token shorter than this is refused (a generated one has 43 characters). */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
export const DEFAULT_LAMBDA_PORT = 9090;
export const DEFAULT_PARTITIONS = 16;
export const MAX_PARTITIONS = 1024;
/** Completed invocations stay inspectable (describe, SQL, attach) this long by default. */
export const DEFAULT_COMPLETED_RETENTION_MS = 3_600_000;

/** The runtime's spans carry this `service.name` unless OTEL_SERVICE_NAME says otherwise. */
export const DEFAULT_SERVICE_NAME = "capstan";
/** The OTLP encodings the runtime can send (`@opentelemetry/exporter-trace-otlp-http`). */
const OTLP_PROTOCOLS = ["http/json"];

/** An ingress API key shorter than this is refused: it would be guessable. */
export const MIN_INGRESS_API_KEY_LENGTH = 16;

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

/** The secrets among the variables: validated without ever echoing their values. */
function secrets(env: NodeJS.ProcessEnv): ConfiguredSecrets {
  const out: ConfiguredSecrets = {};
  const attemptKey = env.CAPSTAN_ATTEMPT_KEY;
  if (attemptKey !== undefined && attemptKey !== "") {
    const key = Buffer.from(attemptKey, "base64");
    if (!/^[A-Za-z0-9+/=_-]+$/.test(attemptKey.trim()) || key.length < MIN_ATTEMPT_KEY_BYTES)
      throw new ConfigError(`CAPSTAN_ATTEMPT_KEY must be base64 of at least ${MIN_ATTEMPT_KEY_BYTES} bytes`);
    out.attemptKey = key;
  }
  const adminToken = env.CAPSTAN_ADMIN_TOKEN;
  if (adminToken !== undefined && adminToken !== "") {
    if (adminToken.length < MIN_ADMIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(adminToken))
      throw new ConfigError(
        `CAPSTAN_ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} printable characters without spaces`,
      );
    out.adminToken = adminToken;
  }
  const clusterKey = env.CAPSTAN_CLUSTER_KEY;
  if (clusterKey !== undefined && clusterKey !== "") {
    const key = Buffer.from(clusterKey, "base64");
    if (!/^[A-Za-z0-9+/=_-]+$/.test(clusterKey.trim()) || key.length < MIN_CLUSTER_KEY_BYTES)
      throw new ConfigError(`CAPSTAN_CLUSTER_KEY must be base64 of at least ${MIN_CLUSTER_KEY_BYTES} bytes`);
    out.clusterKey = key;
  }
  const identity = env.CAPSTAN_IDENTITY_PRIVATE_KEY;
  if (identity !== undefined && identity !== "") {
    let type: string | undefined;
    try {
      type = createPrivateKey(identity).asymmetricKeyType;
    } catch {
      type = undefined;
    }
    if (type !== "ed25519")
      throw new ConfigError("CAPSTAN_IDENTITY_PRIVATE_KEY must be an Ed25519 private key (PKCS#8 PEM)");
    out.identityPrivateKeyPem = identity;
  }
  return out;
}

function url(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${raw} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(`${name}=${raw} must be an http: or https: URL`);
  }
  return raw.replace(/\/+$/, "");
}

function required(env: NodeJS.ProcessEnv, name: string, pattern: RegExp, what: string): string {
  const raw = env[name];
  if (raw === undefined || raw === "")
    throw new ConfigError(`CAPSTAN_STORE=dynamodb needs ${name} (${what})`);
  if (!pattern.test(raw)) throw new ConfigError(`${name}=${raw} is not ${what}`);
  return raw;
}

function storeConfig(env: NodeJS.ProcessEnv): StoreConfig {
  const kind = env.CAPSTAN_STORE || "sqlite";
  if (kind === "sqlite") return { kind };
  if (kind !== "dynamodb") {
    throw new ConfigError(`CAPSTAN_STORE=${kind} must be one of ${STORE_KINDS.join(", ")}`);
  }
  if (!env.AWS_REGION && !env.AWS_DEFAULT_REGION) {
    throw new ConfigError("CAPSTAN_STORE=dynamodb needs AWS_REGION (the region of the table and the bucket)");
  }
  return {
    kind,
    tableName: required(env, "CAPSTAN_DYNAMODB_TABLE", /^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name"),
    endpoint: url(env, "CAPSTAN_DYNAMODB_ENDPOINT"),
    s3Bucket: required(env, "CAPSTAN_S3_BUCKET", /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name"),
    s3Endpoint: url(env, "CAPSTAN_S3_ENDPOINT"),
  };
}

function stateStoreKind(env: NodeJS.ProcessEnv, store: StoreConfig): StateStoreKind {
  const kind = env.CAPSTAN_STATE_STORE || "sqlite";
  if (!(STATE_STORE_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(`CAPSTAN_STATE_STORE=${kind} must be one of ${STATE_STORE_KINDS.join(", ")}`);
  }
  if (kind === "memory" && store.kind !== "sqlite") {
    throw new ConfigError(
      "CAPSTAN_STATE_STORE=memory needs CAPSTAN_STORE=sqlite (a cluster ships state files)",
    );
  }
  return kind as StateStoreKind;
}

function nodeId(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.CAPSTAN_NODE_ID;
  if (raw === undefined || raw === "") return undefined;
  if (!/^[\x21-\x7e]{1,128}$/.test(raw)) {
    throw new ConfigError(`CAPSTAN_NODE_ID=${raw} must be 1-128 printable ASCII characters without spaces`);
  }
  return raw;
}

/** A comma-separated list; empty entries dropped. */
function list(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function ingressApiKeys(env: NodeJS.ProcessEnv): string[] {
  const keys = list(env, "CAPSTAN_INGRESS_API_KEYS") ?? [];
  // The keys themselves never appear in the message: it reaches logs.
  keys.forEach((k, i) => {
    if (k.length < MIN_INGRESS_API_KEY_LENGTH || /\s/.test(k)) {
      throw new ConfigError(
        `CAPSTAN_INGRESS_API_KEYS: key ${i + 1} must be at least ${MIN_INGRESS_API_KEY_LENGTH} characters without spaces`,
      );
    }
  });
  return keys;
}

function registrationAllow(env: NodeJS.ProcessEnv): RegistrationAllowList {
  try {
    return parseRegistrationAllow(list(env, "CAPSTAN_REGISTRATION_ALLOW") ?? DEFAULT_REGISTRATION_ALLOW);
  } catch (e) {
    throw new ConfigError(`CAPSTAN_REGISTRATION_ALLOW: ${(e as Error).message}`);
  }
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
  const logFormat = env.CAPSTAN_LOG_FORMAT || "text";
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    throw new ConfigError(`CAPSTAN_LOG_FORMAT=${logFormat} must be one of ${LOG_FORMATS.join(", ")}`);
  }
  const store = storeConfig(env);
  return {
    host: env.CAPSTAN_HOST ?? "127.0.0.1",
    ingressPort: port(env, "CAPSTAN_INGRESS_PORT", DEFAULT_INGRESS_PORT),
    adminPort: port(env, "CAPSTAN_ADMIN_PORT", DEFAULT_ADMIN_PORT),
    checkpointPort: port(env, "CAPSTAN_CHECKPOINT_PORT", DEFAULT_CHECKPOINT_PORT),
    lambdaPort: port(env, "CAPSTAN_LAMBDA_PORT", DEFAULT_LAMBDA_PORT),
    dataDir: path.resolve(cwd, env.CAPSTAN_DATA_DIR ?? ".capstan"),
    partitions: int(env, "CAPSTAN_PARTITIONS", DEFAULT_PARTITIONS, 1, MAX_PARTITIONS),
    logLevel: logLevel as RuntimeConfig["logLevel"],
    logFormat: logFormat as LogFormat,
    tracesEndpoint: tracesEndpoint(env),
    serviceName: env.OTEL_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    metricsExport: metricsExport(env),
    secrets: secrets(env),
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
    store,
    stateStore: stateStoreKind(env, store),
    nodeId: nodeId(env),
    peerPort: port(env, "CAPSTAN_PEER_PORT", DEFAULT_PEER_PORT),
    nodeAddress: url(env, "CAPSTAN_NODE_ADDRESS"),
    leaseDurationMs: int(env, "CAPSTAN_LEASE_MS", DEFAULT_LEASE_DURATION_MS, MIN_LEASE_MS, MAX_LEASE_MS),
    sensitiveHeaders: (list(env, "CAPSTAN_SENSITIVE_HEADERS") ?? []).map((h) => h.toLowerCase()),
    ingressApiKeys: ingressApiKeys(env),
    registrationAllow: registrationAllow(env),
  };
}

/**
 * The OTLP/HTTP traces URL from the standard variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or
 * OTEL_EXPORTER_OTLP_ENDPOINT plus `/v1/traces` (OTel's exporter specification); none, or
 * OTEL_TRACES_EXPORTER=none, turns tracing off.
 */
function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const exporter = env.OTEL_TRACES_EXPORTER || "otlp";
  if (exporter === "none") return undefined;
  if (exporter !== "otlp") throw new ConfigError(`OTEL_TRACES_EXPORTER=${exporter} must be otlp or none`);
  return otlpEndpoint(env, "TRACES", "/v1/traces");
}

/** Between metrics pushes when OTEL_METRIC_EXPORT_INTERVAL is not set (OTel's default). */
export const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 60_000;
/** Shortest OTEL_METRIC_EXPORT_INTERVAL accepted: a collector is not a tight loop. */
export const MIN_METRIC_EXPORT_INTERVAL_MS = 1_000;

/**
 * The OTLP/HTTP metrics URL, as for traces: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as is, or
 * OTEL_EXPORTER_OTLP_ENDPOINT plus `/v1/metrics`; OTEL_METRICS_EXPORTER=none turns it off; pushed
 * every OTEL_METRIC_EXPORT_INTERVAL ms.
 */
function metricsExport(env: NodeJS.ProcessEnv): RuntimeConfig["metricsExport"] {
  const exporter = env.OTEL_METRICS_EXPORTER || "otlp";
  if (exporter === "none") return undefined;
  if (exporter !== "otlp") throw new ConfigError(`OTEL_METRICS_EXPORTER=${exporter} must be otlp or none`);
  const url = otlpEndpoint(env, "METRICS", "/v1/metrics");
  if (url === undefined) return undefined;
  return {
    url,
    intervalMs: int(
      env,
      "OTEL_METRIC_EXPORT_INTERVAL",
      DEFAULT_METRIC_EXPORT_INTERVAL_MS,
      MIN_METRIC_EXPORT_INTERVAL_MS,
      24 * 3600_000,
    ),
    ...otlpHeaders(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS || env.OTEL_EXPORTER_OTLP_HEADERS),
  };
}

/**
 * OTEL_EXPORTER_OTLP_(METRICS_)HEADERS: `key=value` pairs separated by commas, values percent-encoded
 * (OTel's exporter specification), e.g. a backend's API key. The trace exporter reads them itself;
 * the metrics export is the runtime's own, so they are read here. A malformed entry is refused
 * without echoing it: the values are secrets.
 */
function otlpHeaders(raw: string | undefined): { headers?: Record<string, string> } {
  if (raw === undefined || raw.trim() === "") return {};
  const headers: Record<string, string> = {};
  for (const [i, entry] of raw.split(",").entries()) {
    if (entry.trim() === "") continue;
    const eq = entry.indexOf("=");
    const name = entry.slice(0, Math.max(eq, 0)).trim();
    let value: string | undefined;
    try {
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      value = undefined;
    }
    if (
      eq <= 0 ||
      !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) ||
      value === undefined ||
      !/^[\x20-\x7e]*$/.test(value)
    )
      throw new ConfigError(`OTEL_EXPORTER_OTLP_HEADERS: entry ${i + 1} is not key=value (percent-encoded)`);
    headers[name.toLowerCase()] = value;
  }
  return { headers };
}

/** OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT plus `path`. */
function otlpEndpoint(
  env: NodeJS.ProcessEnv,
  signal: "TRACES" | "METRICS",
  path: string,
): string | undefined {
  const protocol =
    (signal === "TRACES"
      ? env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
      : env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL) ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    "http/json";
  const url = (raw: string, name: string): string => {
    if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new ConfigError(`${name}=${raw} is not an http(s) URL`);
    if (!OTLP_PROTOCOLS.includes(protocol)) {
      throw new ConfigError(
        `OTLP protocol ${protocol} is not supported: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json (the collector's port 4318)`,
      );
    }
    return raw;
  };
  const own =
    signal === "TRACES" ? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT : env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  if (own) return url(own, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (base) return url(base, "OTEL_EXPORTER_OTLP_ENDPOINT").replace(/\/+$/, "") + path;
  return undefined;
}

export interface CliConfig {
  adminUrl: string;
  ingressUrl: string;
  /** Sent as `Authorization: Bearer`; absent when neither configured nor found in the data dir. */
  adminToken?: string;
  /** Where the CLI looked for the admin token (and the identity key) of a local runtime. */
  dataDir: string;
  /** CAPSTAN_IDENTITY_PRIVATE_KEY, for `capstan identity-key`. */
  identityPrivateKeyPem?: string;
}

/**
 * Where the CLI finds the runtime: flags win over CAPSTAN_ADMIN_URL / CAPSTAN_INGRESS_URL. The admin
 * token is CAPSTAN_ADMIN_TOKEN, else the one a local runtime keeps in its data directory
 * (`--data-dir`, CAPSTAN_DATA_DIR, `.capstan`).
 */
export function loadCliConfig(
  flags: { adminUrl?: string; ingressUrl?: string; dataDir?: string },
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): CliConfig {
  const strip = (u: string): string => u.replace(/\/+$/, "");
  const dataDir = path.resolve(cwd, flags.dataDir ?? env.CAPSTAN_DATA_DIR ?? ".capstan");
  const tokenFile = path.join(dataDir, ADMIN_TOKEN_FILE);
  const adminToken = env.CAPSTAN_ADMIN_TOKEN || (existsSync(tokenFile) ? readSecret(tokenFile) : undefined);
  const identityPrivateKeyPem = env.CAPSTAN_IDENTITY_PRIVATE_KEY || undefined;
  return {
    dataDir,
    ...(adminToken !== undefined && { adminToken }),
    ...(identityPrivateKeyPem !== undefined && { identityPrivateKeyPem }),
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
  "checkpoint-port": "CAPSTAN_CHECKPOINT_PORT",
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
