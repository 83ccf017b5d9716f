/**
 * `capstan dev --nodes 2` as a user runs it: DynamoDB Local (JVM), the S3 stand-in, the local Lambda
 * endpoint with a function built by esbuild, and 2 `capstan serve` processes. Any node answers a call;
 * GET /cluster shows both nodes' pids; a node killed with SIGKILL is restarted; closing leaves no
 * process behind; a second start on the same data dir finds the deployment and the invocation.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@capstan/runtime";
import { HEADER_INVOCATION_ID } from "@capstan/sdk/protocol";
import { startDevCluster, type DevCluster } from "../../runtime/src/dev/dev-cluster";
import { messageText, type Log } from "../../runtime/src/log";
import { REGISTRY_MAX_STALENESS_MS } from "../../runtime/src/registry/registry-refresh";
import { devEnvironment, handlersDirIn, writeHelloHandler } from "./support/dev-environment";
import { REPO_ROOT } from "./support/platform-process";

jest.setTimeout(240_000);

const NODES = 2;
const REGISTER = path.join(REPO_ROOT, "test/chaos/support/swc-register.js");
const CLI = path.join(REPO_ROOT, "runtime/src/cli/main.ts");

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("capstan dev --nodes 2", () => {
  const handlersDir = handlersDirIn("dev-cluster-test-");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-dev-cluster-"));
  const lines: string[] = [];
  const log: Log = (message, level = "info") => void lines.push(`${level}: ${messageText(message)}`);
  let cluster: DevCluster | undefined;

  const start = async (): Promise<DevCluster> => {
    const config = loadConfig({}, await devEnvironment(handlersDir, dataDir, NODES));
    return startDevCluster(config, NODES, log, {
      progress: (line) => void lines.push(line),
      nodeOutput: (line) => void lines.push(line),
      nodeCommand: { command: process.execPath, args: ["-r", REGISTER, CLI] },
    });
  };
  const admin = async (c: DevCluster, node: number, route: string): Promise<Response> =>
    fetch(`${c.nodes[node]!.adminUrl}${route}`, { headers: { authorization: `Bearer ${c.adminToken}` } });

  beforeAll(() => writeHelloHandler(handlersDir));
  afterAll(async () => {
    await cluster?.close();
    rmSync(handlersDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("any node answers, a killed node comes back, and a restart keeps the state", async () => {
    cluster = await start();
    const first = cluster;
    const call = async (c: DevCluster, node: number, name: string): Promise<Response> =>
      fetch(`${c.nodes[node]!.ingressUrl}/Hello/hi`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(name),
      });

    // Registered once, through node 0: every node serves it at once (a node that has not seen the
    // registration reloads the registry on the miss before answering).
    const callServed = async (c: DevCluster, node: number, name: string): Promise<Response> => {
      const deadline = Date.now() + REGISTRY_MAX_STALENESS_MS + 10_000;
      for (;;) {
        const res = await call(c, node, name);
        // 503 while a partition moves (after the SIGKILL below): retried, as a client does.
        if (res.status !== 503 || Date.now() > deadline) return res;
        const { code } = (await res.json()) as { code: string };
        expect(code).toBe("RUNTIME_PARTITION_UNAVAILABLE");
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const answers = await Promise.all(first.nodes.map((_, i) => callServed(first, i, `n${i}`)));
    expect(await Promise.all(answers.map((r) => r.json()))).toEqual(first.nodes.map((_, i) => `hi n${i}`));
    const invocationId = answers[1]!.headers.get(HEADER_INVOCATION_ID);
    expect(invocationId).not.toBeNull();

    // GET /cluster on node 1: both nodes, with the pids the parent started.
    const view = (await (await admin(first, 1, "/cluster")).json()) as {
      nodes: Array<{ nodeId: string; pid: number }>;
    };
    expect(Object.fromEntries(view.nodes.map((n) => [n.nodeId, n.pid]))).toEqual(
      Object.fromEntries(first.nodes.map((n) => [n.ports.nodeId, n.process.pid])),
    );

    // SIGKILL node 1: reported, restarted as a new process, serving again.
    const killed = first.nodes[1]!.process.pid!;
    process.kill(killed, "SIGKILL");
    for (;;) {
      const pid = first.nodes[1]!.process.pid;
      if (pid !== killed && alive(pid)) {
        const ready = await fetch(`${first.nodes[1]!.adminUrl}/health/ready`).catch(() => undefined);
        if (ready?.status === 200) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(lines.some((l) => l.startsWith(`[node-1] exited (SIGKILL, pid ${killed})`))).toBe(true);
    expect(await (await callServed(first, 1, "again")).json()).toBe("hi again");

    const deployments = (await (await admin(first, 0, "/deployments")).json()) as {
      deployments: Array<{ id: string }>;
    };
    const pids = first.nodes.map((n) => n.process.pid);
    await first.close();
    cluster = undefined;
    expect(pids.filter(alive)).toEqual([]);

    // A second start on the same data dir: the table (DynamoDB Local's files) and the registry are kept.
    cluster = await start();
    const after = (await (await admin(cluster, 1, "/deployments")).json()) as typeof deployments;
    expect(after.deployments.map((d) => d.id)).toEqual(deployments.deployments.map((d) => d.id));
    expect((await admin(cluster, 1, `/invocations/${invocationId}`)).status).toBe(200);
    expect(await (await callServed(cluster, 0, "later")).json()).toBe("hi later");
  });
});
