/**
 * The runtime and the SDK together through the testing kit: a real embedded runtime (SQLite files,
 * HTTP listeners, the checkpoint channel over real HTTP), handlers invoked in-process.
 */
import { service, TerminalError } from "@capstan/sdk";
import { counter } from "./support/counter";
import { InvocationFailedError, startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

let runs = 0;
const greeter = service({
  name: "Greeter",
  handlers: {
    greet: async (ctx, name: string) => {
      const n = await ctx.run("count", () => ++runs);
      await ctx.sleep({ days: 3 });
      return `Hello, ${name}! (${n})`;
    },
    fail: async (_ctx, reason: string) => {
      throw new TerminalError(reason, { code: 422 });
    },
  },
});

describe.each([false, true])("lifecycle (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [greeter, counter], alwaysReplay });
  });
  afterAll(async () => env.close());

  test("a step runs once and a 3-day sleep is skipped", async () => {
    const before = runs;
    const started = env.clock!.nowMs();
    await expect(env.call("Greeter", "greet", "Ada")).resolves.toBe(`Hello, Ada! (${before + 1})`);
    expect(runs).toBe(before + 1);
    expect(env.clock!.nowMs() - started).toBeGreaterThanOrEqual(3 * 24 * 3600_000);
  });

  test("the journal records when each entry was recorded and completed", async () => {
    const id = await env.send("Greeter", "greet", "Timed");
    await env.result(id);
    const detail = (await env.describe(id))!;
    const sleep = detail.journal.findIndex((e) => e.kind === "sleep");
    const [recordedAt, completedAt] = detail.entryTimes[sleep]!;
    expect(completedAt! - recordedAt).toBeGreaterThanOrEqual(3 * 24 * 3600_000);
    expect(detail.entryTimes).toHaveLength(detail.journal.length);
  });

  test("a terminal error reaches the caller with its code", async () => {
    const err = await env.call("Greeter", "fail", "no").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvocationFailedError);
    expect((err as InvocationFailedError).code).toBe(422);
  });

  test("object state is kept per key and exclusive updates are serialized", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => env.call<number>("Counter", "add", 1, { key: "a" })),
    );
    expect(results.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await expect(env.call("Counter", "get", undefined, { key: "a" })).resolves.toBe(10);
    await expect(env.call("Counter", "get", undefined, { key: "b" })).resolves.toBe(0);
    expect(await env.state("Counter", "a")).toEqual({ count: 10 });
  });

  test("the same idempotency key returns the same invocation and result", async () => {
    const a = await env.call<number>("Counter", "add", 5, { key: "idem", idempotencyKey: "k1" });
    const b = await env.call<number>("Counter", "add", 5, { key: "idem", idempotencyKey: "k1" });
    expect([a, b]).toEqual([5, 5]);
    expect(await env.state("Counter", "idem")).toEqual({ count: 5 });
  });

  test("state survives a restart", async () => {
    await env.call("Counter", "add", 2, { key: "restart" });
    await env.restart();
    await expect(env.call("Counter", "add", 3, { key: "restart" })).resolves.toBe(5);
  });
});
