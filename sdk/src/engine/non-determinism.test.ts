import type { InvokeResponse } from "../protocol";
import type { Context } from "../index";
import { createEndpoint, isNonDeterminismError, object } from "../index";
import { invokeRequest, j } from "../test-support/journal-builder";
import { greeter } from "../test-support/kitchen-sink";

type Recorded = object;
const ok = { kind: "value" as const, value: j(1) };

/** One divergence per row: what the journal recorded, what the (changed) code now does. */
const cases: Array<{
  name: string;
  recorded: Recorded;
  code: (ctx: Context & { set(k: string, v: unknown): void }) => unknown;
  expected: string;
  actual: string;
}> = [
  {
    name: "renamed step",
    recorded: { kind: "run", name: "charge", result: ok },
    code: (ctx) => ctx.run("charge-card", () => 1),
    expected: 'run("charge")',
    actual: 'run("charge-card")',
  },
  {
    name: "a sleep record never satisfies a run",
    recorded: { kind: "sleep", durationMs: 10, result: { kind: "empty" } },
    code: (ctx) => ctx.run("", () => 1),
    expected: 'sleep("")',
    actual: 'run("")',
  },
  {
    name: "call to another target",
    recorded: {
      kind: "call",
      target: { service: "Greeter", handler: "greet" },
      parameter: j("a"),
      result: ok,
    },
    code: (ctx) =>
      ctx
        .serviceClient<{ hello: (c: unknown, s: string) => Promise<string> }>({ name: "Greeter" })
        .hello("a"),
    expected: 'call("Greeter/greet")',
    actual: 'call("Greeter/hello")',
  },
  {
    name: "send where a call was recorded",
    recorded: {
      kind: "call",
      target: { service: "Greeter", handler: "greet" },
      parameter: j("a"),
      result: ok,
    },
    code: (ctx) => ctx.serviceSendClient(greeter).greet("a"),
    expected: 'call("Greeter/greet")',
    actual: 'send("Greeter/greet")',
  },
  {
    name: "other state key",
    recorded: { kind: "setState", key: "a", value: "1" },
    code: (ctx) => ctx.set("b", 1),
    expected: 'setState("a")',
    actual: 'setState("b")',
  },
  {
    name: "awakeable where a sleep was recorded",
    recorded: { kind: "sleep", durationMs: 5, result: { kind: "empty" } },
    code: (ctx) => ctx.awakeable().promise,
    expected: 'sleep("")',
    actual: 'awakeable("")',
  },
];

describe("non-determinism", () => {
  test.each(cases)(
    "$name → NonDeterminismError, outcome retry, expected vs actual",
    async ({ recorded, code, expected, actual }) => {
      let caught: unknown;
      const nd = object({
        name: "Nd",
        handlers: {
          go: async (ctx) => {
            try {
              await code(ctx);
            } catch (e) {
              caught = e; // even a handler that swallows it cannot continue
            }
            await ctx.run("after", () => "never recorded");
          },
        },
      });
      const res = (await createEndpoint(nd).handle(
        invokeRequest({ service: "Nd", handler: "go", key: "k" }, undefined, [recorded]),
      )) as InvokeResponse;

      expect(isNonDeterminismError(caught)).toBe(true);
      expect(caught).toMatchObject({ entryIndex: 1, expected, actual });
      expect(res.outcome).toMatchObject({
        kind: "retry",
        error: {
          name: "NonDeterminismError",
          message: `SDK_NON_DETERMINISM: entry 1: expected ${expected}, actual ${actual}`,
        },
      });
      expect(res.entries).toEqual([]);
    },
  );

  test("returning before replaying every recorded entry is non-deterministic too", async () => {
    const nd = object({ name: "Short", handlers: { go: async () => "done early" } });
    const res = (await createEndpoint(nd).handle(
      invokeRequest({ service: "Short", handler: "go", key: "k" }, undefined, [
        { kind: "run", name: "a", result: ok },
      ]),
    )) as InvokeResponse;
    expect(res.outcome).toMatchObject({
      kind: "retry",
      error: {
        name: "NonDeterminismError",
        message: expect.stringContaining('expected run("a"), actual the handler returned'),
      },
    });
  });

  test("a deliberately non-deterministic handler fails on replay", async () => {
    let flip = false;
    const flaky = object({
      name: "Flaky",
      handlers: {
        go: async (ctx) => {
          flip = !flip;
          await ctx.run(flip ? "heads" : "tails", () => 1);
        },
      },
    });
    const ep = createEndpoint(flaky);
    const target = { service: "Flaky", handler: "go", key: "k" };
    const first = (await ep.handle(invokeRequest(target, undefined))) as InvokeResponse;
    const replay = (await ep.handle(invokeRequest(target, undefined, first.entries))) as InvokeResponse;
    expect(replay.outcome).toMatchObject({ kind: "retry", error: { name: "NonDeterminismError" } });
    expect((replay.outcome as { error: { message: string } }).error.message).toContain(
      'expected run("heads"), actual run("tails")',
    );
  });
});
