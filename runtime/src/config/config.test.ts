import path from "node:path";
import {
  ConfigError,
  configFlags,
  DEFAULT_PARTITIONS,
  loadConfig,
  loadCliConfig,
  MAX_PARTITIONS,
} from "./config";

const load = (env: NodeJS.ProcessEnv): ReturnType<typeof loadConfig> => loadConfig({}, env, "/repo");

describe("loadConfig", () => {
  test("defaults are the documented local ports, data dir and partitions", () => {
    const c = load({});
    expect(c).toMatchObject({
      host: "127.0.0.1",
      ingressPort: 8080,
      adminPort: 9070,
      lambdaPort: 9090,
      partitions: DEFAULT_PARTITIONS,
    });
    expect(c.dataDir).toBe(path.resolve("/repo", ".capstan"));
    expect(c.handlersDir).toBe(path.resolve("/repo", "handlers/src"));
  });

  test("bad values fail with CONFIG_INVALID naming the variable", () => {
    expect(() => load({ CAPSTAN_INGRESS_PORT: "80a" })).toThrow(ConfigError);
    expect(() => load({ CAPSTAN_INGRESS_PORT: "65536" })).toThrow(/CAPSTAN_INGRESS_PORT/);
    expect(() => load({ CAPSTAN_LOG_LEVEL: "loud" })).toThrow(/CAPSTAN_LOG_LEVEL/);
  });

  test("partitions are bounded at MAX_PARTITIONS", () => {
    expect(load({ CAPSTAN_PARTITIONS: String(MAX_PARTITIONS) }).partitions).toBe(MAX_PARTITIONS);
    expect(() => load({ CAPSTAN_PARTITIONS: String(MAX_PARTITIONS + 1) })).toThrow(/CAPSTAN_PARTITIONS/);
    expect(() => load({ CAPSTAN_PARTITIONS: "0" })).toThrow(ConfigError);
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
    expect(loadCliConfig({}, {})).toEqual({
      adminUrl: "http://127.0.0.1:9070",
      ingressUrl: "http://127.0.0.1:8080",
    });
    expect(loadCliConfig({}, { CAPSTAN_ADMIN_URL: "http://a:1/" }).adminUrl).toBe("http://a:1");
    expect(loadCliConfig({ adminUrl: "http://b:2" }, { CAPSTAN_ADMIN_URL: "http://a:1" }).adminUrl).toBe(
      "http://b:2",
    );
  });
});
