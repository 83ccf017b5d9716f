/**
 * A node's close drains its ingress: real listeners on 127.0.0.1, a real SQLite data directory, the
 * handlers in-process (their checkpoints and timers still go through the runtime).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createEndpoint, service } from "@capstan/sdk";
import { startRuntimeNode, type RuntimeNode } from "./node";
import { loadNodeCredentials } from "./security/node-credentials";
import { InProcessInvoker } from "./testing/in-process-invoker";

/** Opened by the test: `Gate/wait` goes on once it is. */
let open: () => void = () => undefined;
let opened = Promise.resolve();
/** Resolves when a `Gate` handler started running. */
let started: () => void = () => undefined;
let running = Promise.resolve();

const gate = service({
  name: "Gate",
  handlers: {
    // After the gate: a timer and a step, so the invocation needs the runtime (timers, the
    // checkpoint listener) while its node drains.
    wait: async (ctx, name: string) => {
      started();
      await opened;
      await ctx.sleep({ milliseconds: 1 });
      return ctx.run("greet", () => `done ${name}`);
    },
    // Waits for the gate too; a test that never opens it has a call that does not finish in time.
    hold: async () => {
      started();
      await opened;
      return "late";
    },
  },
});

describe("closing a node drains the requests in flight on its ingress", () => {
  let dataDir: string;
  let node: RuntimeNode | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-drain-"));
    opened = new Promise((r) => (open = r));
    running = new Promise((r) => (started = r));
  });
  afterEach(async () => {
    open();
    await node?.close({ drainMs: 0 });
    node = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<RuntimeNode> {
    const credentials = loadNodeCredentials(dataDir);
    const invoker = new InProcessInvoker(() => 15 * 60_000, credentials.identity);
    const deployment = invoker.add(
      "gate",
      createEndpoint(gate, { identityKeys: [credentials.identity.publicKey] }),
    );
    const started = await startRuntimeNode({
      dataDir,
      partitions: 4,
      host: "127.0.0.1",
      ingressPort: 0,
      adminPort: 0,
      checkpointPort: 0,
      credentials,
      invoker,
      log: () => undefined,
    });
    await started.runtime.registerDeployment(deployment, { force: true });
    return started;
  }

  const post = (n: RuntimeNode, urlPath: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${n.ingressUrl}${urlPath}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  test("a call in flight gets its real answer; a new connection is refused", async () => {
    const n = (node = await start());
    const reply = post(n, "/Gate/wait", "Ann");
    await running;
    const closing = n.close();
    // The ingress listener is closed at once: a new request never reaches this node.
    const refused = await post(n, "/Gate/wait", "Bob").catch((e: unknown) => e);
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
    // The runtime is still running: the invocation sleeps, records its step and completes.
    open();
    const answer = await reply;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toBe("done Ann");
    expect(answer.headers.get("connection")).toBe("close");
    await closing;
    node = undefined;
  });

  test("at the drain deadline a call still waiting gets 503 INGRESS_DRAIN_DEADLINE; its invocation is kept", async () => {
    const n = (node = await start());
    const reply = post(n, "/Gate/hold", null, { "idempotency-key": "k-hold" });
    await running;
    await n.close({ drainMs: 100 });
    node = undefined;
    const answer = await reply;
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("1");
    expect(answer.headers.get("x-restate-error-source")).toBe("ingress");
    expect(await answer.json()).toMatchObject({ code: "INGRESS_DRAIN_DEADLINE" });
    // The invocation was durable before the answer: after a restart its idempotency key finds it.
    running = new Promise((r) => (started = r));
    const again = (node = await start());
    const id = await again.runtime.idempotentInvocation({ service: "Gate", handler: "hold" }, "k-hold");
    expect(id).toMatch(/^inv_/);
    // The 503 named it, so a caller without an idempotency key can attach to it too.
    expect(answer.headers.get("x-restate-id")).toBe(id);
    // Recovery runs it again (it was in flight).
    await running;
  });

  test("idle keep-alive connections to the ingress and admin do not hold the close", async () => {
    const n = (node = await start());
    // fetch keeps both connections open, idle, after the answers.
    const health = await fetch(`${n.ingressUrl}/restate/health`);
    expect(health.status).toBe(200);
    await health.text();
    const ready = await fetch(`${n.adminUrl}/health/ready`);
    expect(ready.status).toBe(200);
    await ready.text();
    // A deadline no test reaches: the close ends because nothing is in flight.
    await n.close({ drainMs: 10 * 60_000 });
    node = undefined;
  });
});
