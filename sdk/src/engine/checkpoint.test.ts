import type { EntryCompletion, InvokeResponse } from "../protocol";
import { MAX_CHECKPOINT_WAIT_MS } from "../protocol";
import {
  CapstanPromise,
  createEndpoint,
  isAttemptSupersededError,
  isCancelledError,
  object,
  service,
} from "../index";
import { startCheckpointServer } from "../test-support/checkpoint-server";
import { invokeRequest, j } from "../test-support/journal-builder";
import { greeter } from "../test-support/kitchen-sink";

const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function checkpointServer(...args: Parameters<typeof startCheckpointServer>) {
  const s = await startCheckpointServer(...args);
  servers.push(s);
  return s;
}
const lambdaTime = { remainingTimeMs: () => 60_000 };

describe("checkpoint channel", () => {
  test("each ctx.run result is acknowledged before user code sees it; one invocation for three steps", async () => {
    const seenBeforeStep: number[] = [];
    const server = await checkpointServer();
    const steps = service({
      name: "Steps",
      handlers: {
        go: async (ctx) => {
          let sum = 0;
          for (const n of [1, 2, 3]) {
            sum += await ctx.run(`step-${n}`, () => {
              seenBeforeStep.push(server.received.length);
              return n;
            });
          }
          return sum;
        },
      },
    });
    const res = (await createEndpoint(steps).handle(
      invokeRequest({ service: "Steps", handler: "go" }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    )) as InvokeResponse;

    expect(res.outcome).toEqual({ kind: "completed", value: "6" });
    expect(res.entries).toEqual([]);
    expect(seenBeforeStep).toEqual([0, 1, 2]);
    expect(server.received.map((c) => c.entries)).toEqual(
      [1, 2, 3].map((n) => [
        { index: n, kind: "run", name: `step-${n}`, result: { kind: "value", value: String(n) } },
      ]),
    );
    expect(server.received.every((c) => c.attemptToken === "tok-1" && c.pending.length === 0)).toBe(true);
  });

  test("entries needing no answer ride along with the next checkpoint, in order", async () => {
    const server = await checkpointServer();
    const obj = object({
      name: "Obj",
      handlers: {
        go: async (ctx) => {
          ctx.set("a", 1);
          ctx
            .objectSendClient<{ poke: () => Promise<void> }>({ name: "Other" }, "k")
            .poke(undefined, { delay: 1000 });
          await ctx.run("r", () => "x");
          ctx.clear("a");
          return "ok";
        },
      },
    });
    const res = (await createEndpoint(obj).handle(
      invokeRequest({ service: "Obj", handler: "go", key: "k" }, undefined, [], {
        checkpoint: { url: server.url },
        state: { complete: true, values: {} },
      }),
      lambdaTime,
    )) as InvokeResponse;
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.entries.map((e) => e.kind)).toEqual(["setState", "send", "run"]);
    expect(res.entries).toEqual([{ index: 4, kind: "clearState", key: "a" }]);
  });

  test("a 100 ms sleep completes inside one invocation through the long-poll", async () => {
    const server = await checkpointServer((cp) =>
      cp.pending.map((index): EntryCompletion => ({ index, result: { kind: "empty" }, wakeUpAtMs: 1 })),
    );
    const sleepy = service({
      name: "Sleepy",
      handlers: {
        go: async (ctx) => {
          await ctx.sleep(100);
          return "woke";
        },
      },
    });
    const res = (await createEndpoint(sleepy).handle(
      invokeRequest({ service: "Sleepy", handler: "go" }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    )) as InvokeResponse;
    expect(res.outcome).toEqual({ kind: "completed", value: j("woke") });
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({
      entries: [{ index: 1, kind: "sleep", durationMs: 100 }],
      pending: [1],
    });
    expect(server.received[0]!.waitMs).toBeGreaterThan(100);
    expect(server.received[0]!.waitMs).toBeLessThanOrEqual(MAX_CHECKPOINT_WAIT_MS);
  });

  test("10 parallel calls to a fast service complete within the parent's single invocation", async () => {
    const server = await checkpointServer((cp) =>
      cp.pending.map((index) => ({ index, result: { kind: "value", value: j(`hello ${index}`) } })),
    );
    const fan = service({
      name: "Fan",
      handlers: {
        go: async (ctx) =>
          CapstanPromise.all(Array.from({ length: 10 }, (_, i) => ctx.serviceClient(greeter).greet(`n${i}`))),
      },
    });
    const res = (await createEndpoint(fan, greeter).handle(
      invokeRequest({ service: "Fan", handler: "go" }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    )) as InvokeResponse;
    expect(res.outcome.kind).toBe("completed");
    expect(JSON.parse((res.outcome as { value: string }).value)).toHaveLength(10);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.entries).toHaveLength(10);
    expect(server.received[0]!.pending).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("near the Lambda deadline, or for a long sleep, the SDK suspends instead of long-polling", async () => {
    const server = await checkpointServer();
    const sleepy = service({
      name: "Sleepy",
      handlers: {
        short: async (ctx) => ctx.sleep(100),
        long: async (ctx) => ctx.sleep({ days: 1 }),
      },
    });
    const ep = createEndpoint(sleepy);
    const req = (handler: string) =>
      invokeRequest({ service: "Sleepy", handler }, undefined, [], { checkpoint: { url: server.url } });

    const nearDeadline = (await ep.handle(req("short"), { remainingTimeMs: () => 500 })) as InvokeResponse;
    const longSleep = (await ep.handle(req("long"), lambdaTime)) as InvokeResponse;

    expect(nearDeadline.outcome).toEqual({ kind: "suspended", awaiting: [1] });
    expect(nearDeadline.entries).toEqual([{ index: 1, kind: "sleep", durationMs: 100 }]);
    expect(longSleep.outcome).toEqual({ kind: "suspended", awaiting: [1] });
    expect(server.received).toHaveLength(0);
  });

  test("a call not back within the default inline budget ends in suspension", async () => {
    let clock = 0;
    const server = await checkpointServer(() => {
      clock += 1_500; // the long-poll ran out with nothing completed
      return [];
    });
    const caller = service({
      name: "Caller",
      handlers: { go: async (ctx) => ctx.serviceClient(greeter).greet("x") },
    });
    const res = (await createEndpoint(caller, { now: () => clock }).handle(
      invokeRequest({ service: "Caller", handler: "go" }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    )) as InvokeResponse;
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ waitMs: 1000, pending: [1] });
    expect(res).toMatchObject({ entries: [], outcome: { kind: "suspended", awaiting: [1] } });
  });

  test("409 INVOKE_STALE_ATTEMPT stops the attempt: handle rejects and the ctx is closed", async () => {
    const server = await checkpointServer(() => ({
      status: 409,
      body: { code: "INVOKE_STALE_ATTEMPT", message: "stale" },
    }));
    let afterwards: unknown;
    let ctxRef: { run(n: string, f: () => number): Promise<number> } | undefined;
    const svc = service({
      name: "Stale",
      handlers: {
        go: async (ctx) => {
          ctxRef = ctx;
          await ctx.run("a", () => 1);
          return "unreachable";
        },
      },
    });
    const p = createEndpoint(svc).handle(
      invokeRequest({ service: "Stale", handler: "go" }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    );
    await expect(p).rejects.toMatchObject({ name: "AttemptSupersededError", code: "SDK_ATTEMPT_SUPERSEDED" });
    expect(isAttemptSupersededError(await p.catch((e: unknown) => e))).toBe(true);
    try {
      await ctxRef!.run("b", () => 2);
    } catch (e) {
      afterwards = e;
    }
    expect(afterwards).toMatchObject({ message: expect.stringContaining("SDK_CONTEXT_CLOSED") });
    expect(server.received).toHaveLength(1);
  });

  test("an unreachable checkpoint endpoint falls back to request/response", async () => {
    const server = await checkpointServer();
    await server.close();
    const warnings: unknown[] = [];
    const svc = service({ name: "Fallback", handlers: { go: async (ctx) => ctx.run("a", () => 41 + 1) } });
    const res = (await createEndpoint(svc, {
      logger: { ...silent, warn: (m: unknown) => warnings.push(m) },
    }).handle(
      invokeRequest({ service: "Fallback", handler: "go" }, undefined, [], {
        checkpoint: { url: server.url },
      }),
      lambdaTime,
    )) as InvokeResponse;
    expect(res.entries).toEqual([
      { index: 1, kind: "run", name: "a", result: { kind: "value", value: "42" } },
    ]);
    expect(res.outcome).toEqual({ kind: "suspended", awaiting: [1] });
    expect(warnings).toHaveLength(1);
  });

  test("cancellation on the ack surfaces as CancelledError; the compensation is checkpointed", async () => {
    const server = await checkpointServer((cp) =>
      cp.pending.map((index) => ({
        index,
        result: { kind: "failure", failure: { code: 409, message: "cancelled", name: "CancelledError" } },
      })),
    );
    const svc = service({
      name: "Cancel",
      handlers: {
        go: async (ctx) => {
          try {
            await ctx.serviceClient(greeter).greet("x");
          } catch (e) {
            if (isCancelledError(e)) await ctx.run("undo", () => "undone");
            throw e;
          }
        },
      },
    });
    const res = (await createEndpoint(svc).handle(
      invokeRequest({ service: "Cancel", handler: "go" }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    )) as InvokeResponse;
    expect(server.received.map((c) => c.entries.map((e) => e.kind))).toEqual([["call"], ["run"]]);
    expect(res.outcome).toMatchObject({ kind: "failed", failure: { code: 409, name: "CancelledError" } });
  });

  test("alwaysReplay ignores the checkpoint channel and suspends after the run result", async () => {
    const server = await checkpointServer();
    const svc = service({ name: "AR", handlers: { go: async (ctx) => ctx.run("a", () => 1) } });
    const res = (await createEndpoint(svc, { alwaysReplay: true }).handle(
      invokeRequest({ service: "AR", handler: "go" }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    )) as InvokeResponse;
    expect(res.outcome).toEqual({ kind: "suspended", awaiting: [1] });
    expect(server.received).toHaveLength(0);
  });
});
