import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MIN_ATTEMPT_KEY_BYTES } from "../security/attempt-credentials";
import {
  ConfigError,
  configFlags,
  DEFAULT_PARTITIONS,
  loadConfig,
  loadCliConfig,
  MAX_PARTITIONS,
  MIN_ADMIN_TOKEN_LENGTH,
  MIN_INGRESS_API_KEY_LENGTH,
  DEFAULT_PEER_PORT,
  MIN_LEASE_MS,
  MAX_LEASE_MS,
} from "./config";
import { DEFAULT_LEASE_DURATION_MS } from "../cluster/lease-coordinator";
import { MIN_CLUSTER_KEY_BYTES } from "../security/peer-auth";
import { DEFAULT_REGISTRATION_ALLOW } from "../server/registration-allow";

const load = (env: NodeJS.ProcessEnv): ReturnType<typeof loadConfig> => loadConfig({}, env, "/repo");

describe("loadConfig", () => {
  test("defaults are the documented local ports, data dir and partitions", () => {
    const c = load({});
    expect(c).toMatchObject({
      host: "127.0.0.1",
      ingressPort: 8080,
      adminPort: 9070,
      checkpointPort: 9071,
      lambdaPort: 9090,
      partitions: DEFAULT_PARTITIONS,
    });
    expect(c.dataDir).toBe(path.resolve("/repo", ".capstan"));
    expect(c.handlersDir).toBe(path.resolve("/repo", "handlers/src"));
  });

  test("logs are text unless CAPSTAN_LOG_FORMAT=json; an unknown format is refused", () => {
    expect(load({}).logFormat).toBe("text");
    expect(load({ CAPSTAN_LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(() => load({ CAPSTAN_LOG_FORMAT: "xml" })).toThrow(/CAPSTAN_LOG_FORMAT/);
  });

  test("the metrics export follows the standard OTEL_* variables and is off without an endpoint", () => {
    expect(load({}).metricsExport).toBeUndefined();
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).metricsExport).toEqual({
      url: "http://collector:4318/v1/metrics",
      intervalMs: 60_000,
    });
    const own = { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "https://metrics.example/otlp" };
    expect(load({ ...own, OTEL_METRIC_EXPORT_INTERVAL: "1000" }).metricsExport).toEqual({
      url: "https://metrics.example/otlp",
      intervalMs: 1000,
    });
    expect(() => load({ ...own, OTEL_METRIC_EXPORT_INTERVAL: "999" })).toThrow(/OTEL_METRIC_EXPORT_INTERVAL/);
    expect(load({ ...own, OTEL_METRICS_EXPORTER: "none" }).metricsExport).toBeUndefined();
    expect(() => load({ ...own, OTEL_METRICS_EXPORTER: "prometheus" })).toThrow(/OTEL_METRICS_EXPORTER/);
    expect(() => load({ ...own, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "grpc" })).toThrow(/http\/json/);
    // Each signal has its own switch: traces off, metrics on.
    expect(load({ ...own, OTEL_TRACES_EXPORTER: "none" }).metricsExport).toBeDefined();
  });

  test("the metrics export sends OTEL_EXPORTER_OTLP_(METRICS_)HEADERS; a malformed one is refused unechoed", () => {
    const own = { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "https://metrics.example/otlp" };
    const headers = (env: NodeJS.ProcessEnv) => load({ ...own, ...env }).metricsExport?.headers;
    expect(headers({})).toBeUndefined();
    expect(headers({ OTEL_EXPORTER_OTLP_HEADERS: "X-Api-Key=s3cr%3Dt, team = a%20b ," })).toEqual({
      "x-api-key": "s3cr=t",
      team: "a b",
    });
    // The metrics' own variable wins over the shared one.
    expect(headers({ OTEL_EXPORTER_OTLP_HEADERS: "a=1", OTEL_EXPORTER_OTLP_METRICS_HEADERS: "b=2" })).toEqual(
      { b: "2" },
    );
    for (const bad of ["novalue", "=x", "bad name=x", "k=%zz", "k=a%0Ab"]) {
      const refused = (() => {
        try {
          return headers({ OTEL_EXPORTER_OTLP_HEADERS: `ok=1,${bad}` });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).message).toMatch(/OTEL_EXPORTER_OTLP_HEADERS: entry 2 /);
      expect((refused as Error).message).not.toContain(bad);
    }
  });

  test("tracing follows the standard OTEL_* variables and is off without an endpoint", () => {
    expect(load({})).toMatchObject({ tracesEndpoint: undefined, serviceName: "capstan" });
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracesEndpoint).toBe(
      "http://collector:4318/v1/traces",
    );
    const both = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/otlp",
      OTEL_SERVICE_NAME: "orders-runtime",
    };
    expect(load(both)).toMatchObject({
      tracesEndpoint: "https://traces.example/otlp",
      serviceName: "orders-runtime",
    });
    expect(load({ ...both, OTEL_TRACES_EXPORTER: "none" }).tracesEndpoint).toBeUndefined();
    expect(() => load({ ...both, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/http\/json/);
    expect(() => load({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() => load({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/OTEL_TRACES_EXPORTER/);
  });

  test("bad values fail with CONFIG_INVALID naming the variable", () => {
    expect(() => load({ CAPSTAN_INGRESS_PORT: "80a" })).toThrow(ConfigError);
    expect(() => load({ CAPSTAN_INGRESS_PORT: "65536" })).toThrow(/CAPSTAN_INGRESS_PORT/);
    expect(() => load({ CAPSTAN_LOG_LEVEL: "loud" })).toThrow(/CAPSTAN_LOG_LEVEL/);
  });

  test("CAPSTAN_STATE_STORE: sqlite by default, memory only with the embedded store", () => {
    expect(load({}).stateStore).toBe("sqlite");
    expect(load({ CAPSTAN_STATE_STORE: "" }).stateStore).toBe("sqlite");
    expect(load({ CAPSTAN_STATE_STORE: "memory" }).stateStore).toBe("memory");
    expect(() => load({ CAPSTAN_STATE_STORE: "rocksdb" })).toThrow(/CAPSTAN_STATE_STORE/);
    expect(() =>
      load({
        CAPSTAN_STATE_STORE: "memory",
        CAPSTAN_STORE: "dynamodb",
        CAPSTAN_DYNAMODB_TABLE: "capstan",
        CAPSTAN_S3_BUCKET: "capstan-snapshots",
        AWS_REGION: "eu-west-1",
      }),
    ).toThrow(/CAPSTAN_STATE_STORE=memory needs CAPSTAN_STORE=sqlite/);
  });

  test("CAPSTAN_STORE=dynamodb needs a table, a bucket and a region, each error naming its variable", () => {
    const aws = {
      CAPSTAN_STORE: "dynamodb",
      CAPSTAN_DYNAMODB_TABLE: "capstan",
      CAPSTAN_S3_BUCKET: "capstan-snapshots",
      AWS_REGION: "eu-west-1",
    };
    expect(load({}).store).toEqual({ kind: "sqlite" });
    expect(load(aws).store).toEqual({
      kind: "dynamodb",
      tableName: "capstan",
      endpoint: undefined,
      s3Bucket: "capstan-snapshots",
      s3Endpoint: undefined,
    });
    expect(
      load({
        ...aws,
        CAPSTAN_DYNAMODB_ENDPOINT: "http://127.0.0.1:8000/",
        CAPSTAN_S3_ENDPOINT: "http://127.0.0.1:9000",
      }).store,
    ).toMatchObject({ endpoint: "http://127.0.0.1:8000", s3Endpoint: "http://127.0.0.1:9000" });
    expect(() => load({ CAPSTAN_STORE: "postgres" })).toThrow(/CAPSTAN_STORE/);
    expect(() => load({ ...aws, CAPSTAN_DYNAMODB_TABLE: "" })).toThrow(/CAPSTAN_DYNAMODB_TABLE/);
    expect(() => load({ ...aws, CAPSTAN_DYNAMODB_TABLE: "a b" })).toThrow(/CAPSTAN_DYNAMODB_TABLE/);
    expect(() => load({ ...aws, CAPSTAN_S3_BUCKET: undefined })).toThrow(/CAPSTAN_S3_BUCKET/);
    expect(() => load({ ...aws, CAPSTAN_S3_BUCKET: "Upper_Case" })).toThrow(/CAPSTAN_S3_BUCKET/);
    expect(() => load({ ...aws, AWS_REGION: undefined })).toThrow(/AWS_REGION/);
    expect(() => load({ ...aws, CAPSTAN_DYNAMODB_ENDPOINT: "127.0.0.1:8000" })).toThrow(
      /CAPSTAN_DYNAMODB_ENDPOINT/,
    );
    expect(() => load({ ...aws, CAPSTAN_S3_ENDPOINT: "ftp://x" })).toThrow(/CAPSTAN_S3_ENDPOINT/);
  });

  test("CAPSTAN_NODE_ID is optional and printable, at most 128 characters", () => {
    expect(load({}).nodeId).toBeUndefined();
    expect(load({ CAPSTAN_NODE_ID: "n".repeat(128) }).nodeId).toBe("n".repeat(128));
    expect(() => load({ CAPSTAN_NODE_ID: "n".repeat(129) })).toThrow(/CAPSTAN_NODE_ID/);
    expect(() => load({ CAPSTAN_NODE_ID: "node a" })).toThrow(/CAPSTAN_NODE_ID/);
  });

  test("cluster settings: peer port, node address, lease bounds, cluster key (never echoed)", () => {
    const defaults = load({});
    expect([defaults.peerPort, defaults.nodeAddress, defaults.leaseDurationMs]).toEqual([
      DEFAULT_PEER_PORT,
      undefined,
      DEFAULT_LEASE_DURATION_MS,
    ]);
    expect(load({ CAPSTAN_NODE_ADDRESS: "http://10.0.1.7:9072/" }).nodeAddress).toBe("http://10.0.1.7:9072");
    expect(() => load({ CAPSTAN_NODE_ADDRESS: "10.0.1.7" })).toThrow(/CAPSTAN_NODE_ADDRESS/);
    expect(load({ CAPSTAN_LEASE_MS: String(MIN_LEASE_MS) }).leaseDurationMs).toBe(MIN_LEASE_MS);
    expect(load({ CAPSTAN_LEASE_MS: String(MAX_LEASE_MS) }).leaseDurationMs).toBe(MAX_LEASE_MS);
    expect(() => load({ CAPSTAN_LEASE_MS: String(MIN_LEASE_MS - 1) })).toThrow(/CAPSTAN_LEASE_MS/);
    expect(() => load({ CAPSTAN_LEASE_MS: String(MAX_LEASE_MS + 1) })).toThrow(/CAPSTAN_LEASE_MS/);
    const key = Buffer.alloc(MIN_CLUSTER_KEY_BYTES, 9).toString("base64");
    expect(load({ CAPSTAN_CLUSTER_KEY: key }).secrets.clusterKey?.length).toBe(MIN_CLUSTER_KEY_BYTES);
    const short = Buffer.alloc(MIN_CLUSTER_KEY_BYTES - 1, 9).toString("base64");
    let refused: Error | undefined;
    try {
      load({ CAPSTAN_CLUSTER_KEY: short });
    } catch (e) {
      refused = e as Error;
    }
    expect(refused?.message).toMatch(/CAPSTAN_CLUSTER_KEY/);
    expect(refused?.message).not.toContain(short);
  });

  test("partitions are bounded at MAX_PARTITIONS", () => {
    expect(load({ CAPSTAN_PARTITIONS: String(MAX_PARTITIONS) }).partitions).toBe(MAX_PARTITIONS);
    expect(() => load({ CAPSTAN_PARTITIONS: String(MAX_PARTITIONS + 1) })).toThrow(/CAPSTAN_PARTITIONS/);
    expect(() => load({ CAPSTAN_PARTITIONS: "0" })).toThrow(ConfigError);
  });

  test("ingress keys, sensitive headers and the registration allow-list; a short key is refused unnamed", () => {
    const defaults = load({});
    expect(defaults.ingressApiKeys).toEqual([]);
    expect(defaults.sensitiveHeaders).toEqual([]);
    expect(defaults.registrationAllow.entries).toEqual(DEFAULT_REGISTRATION_ALLOW);
    const atLimit = "k".repeat(MIN_INGRESS_API_KEY_LENGTH);
    const c = load({
      CAPSTAN_INGRESS_API_KEYS: ` ${atLimit}, ${atLimit}2 `,
      CAPSTAN_SENSITIVE_HEADERS: "X-Session, x-tenant-token",
      CAPSTAN_REGISTRATION_ALLOW: "https://*.internal, lambda:shop-*",
    });
    expect(c.ingressApiKeys).toEqual([atLimit, `${atLimit}2`]);
    expect(c.sensitiveHeaders).toEqual(["x-session", "x-tenant-token"]);
    expect(c.registrationAllow.entries).toEqual(["https://*.internal", "lambda:shop-*"]);
    const short = "s".repeat(MIN_INGRESS_API_KEY_LENGTH - 1);
    expect(() => load({ CAPSTAN_INGRESS_API_KEYS: short })).toThrow(ConfigError);
    let message = "";
    try {
      load({ CAPSTAN_INGRESS_API_KEYS: `${atLimit},${short}` });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/CAPSTAN_INGRESS_API_KEYS: key 2/);
    expect(message).not.toContain(short);
    expect(() => load({ CAPSTAN_REGISTRATION_ALLOW: "ftp://x" })).toThrow(/CAPSTAN_REGISTRATION_ALLOW/);
  });

  test("flags override the environment", () => {
    const flags = new Map<string, string | true>([
      ["ingress-port", "8181"],
      ["data-dir", "/tmp/x"],
      ["json", true],
    ]);
    const c = loadConfig(
      configFlags(flags),
      { ...{ CAPSTAN_INGRESS_PORT: "9999" }, ...configFlags(flags) },
      "/repo",
    );
    expect(c.ingressPort).toBe(8181);
    expect(c.dataDir).toBe("/tmp/x");
  });

  test("the CLI finds the runtime by flag, then environment, then the local default", () => {
    expect(loadCliConfig({}, {}, "/nowhere")).toEqual({
      adminUrl: "http://127.0.0.1:9070",
      ingressUrl: "http://127.0.0.1:8080",
      dataDir: "/nowhere/.capstan",
    });
    expect(loadCliConfig({}, { CAPSTAN_ADMIN_URL: "http://a:1/" }).adminUrl).toBe("http://a:1");
    expect(loadCliConfig({ adminUrl: "http://b:2" }, { CAPSTAN_ADMIN_URL: "http://a:1" }).adminUrl).toBe(
      "http://b:2",
    );
  });

  test("secrets are validated without echoing them, and never required", () => {
    const secret = "s3cr3t-value";
    for (const [name, value] of [
      ["CAPSTAN_ATTEMPT_KEY", Buffer.alloc(MIN_ATTEMPT_KEY_BYTES - 1, 7).toString("base64")],
      ["CAPSTAN_ADMIN_TOKEN", "s".repeat(MIN_ADMIN_TOKEN_LENGTH - 1)],
      ["CAPSTAN_IDENTITY_PRIVATE_KEY", `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----`],
    ] as const) {
      const error = (() => {
        try {
          loadConfig({}, { [name]: value });
        } catch (e) {
          return e as ConfigError;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error!.message).toContain(name);
      expect(error!.message).not.toContain(value);
    }
    expect(loadConfig({}, {}).secrets).toEqual({});
    const key = Buffer.alloc(MIN_ATTEMPT_KEY_BYTES, 7);
    const token = "t".repeat(MIN_ADMIN_TOKEN_LENGTH);
    expect(
      loadConfig({}, { CAPSTAN_ATTEMPT_KEY: key.toString("base64"), CAPSTAN_ADMIN_TOKEN: token }).secrets,
    ).toEqual({ attemptKey: key, adminToken: token });
  });

  test("the CLI takes the admin token from the environment, else from the data directory", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "capstan-cli-"));
    try {
      expect(loadCliConfig({ dataDir: dir }, {}).adminToken).toBeUndefined();
      writeFileSync(path.join(dir, "admin-token"), "from-the-data-dir\n", { mode: 0o600 });
      expect(loadCliConfig({ dataDir: dir }, {}).adminToken).toBe("from-the-data-dir");
      expect(loadCliConfig({}, { CAPSTAN_DATA_DIR: dir }).adminToken).toBe("from-the-data-dir");
      expect(loadCliConfig({ dataDir: dir }, { CAPSTAN_ADMIN_TOKEN: "from-env" }).adminToken).toBe(
        "from-env",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
