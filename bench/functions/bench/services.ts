/**
 * The bench's durable services, shared by the Lambda function (handler.ts, built by `capstan dev`)
 * and the HTTP deployment child (src/http-deployment-child.ts), so both modes run identical code.
 */
import { CapstanPromise, object, service } from "@capstan/sdk";

/** Calls made by `fanout`; the plain reference server makes the same number of in-process calls. */
export const FANOUT_CALLS = 10;
/** Timer of `sleeper`. */
export const SLEEP_MS = 100;
/** Timer of `hold`: long enough that the scale scenario's invocations stay suspended throughout. */
export const HOLD_MS = 3_600_000;

export const bench = service({
  name: "bench",
  handlers: {
    noop: async (_ctx, input: unknown) => input,
    steps: async (ctx) => {
      const a = await ctx.run("a", () => 1);
      const b = await ctx.run("b", () => a + 1);
      const c = await ctx.run("c", () => b + 1);
      return { a, b, c };
    },
    sleeper: async (ctx) => {
      await ctx.sleep(SLEEP_MS, "nap");
      return { slept: SLEEP_MS };
    },
    // Sent (not called) by the scale scenario: each leaves one invocation suspended on a timer.
    hold: async (ctx) => {
      await ctx.sleep(HOLD_MS, "hold");
      return { held: HOLD_MS };
    },
    fanout: async (ctx) => {
      // By name: the definition cannot reference itself while it is being declared.
      const self = ctx.serviceClient<{ noop: (ctx: unknown, input: number) => Promise<number> }>({
        name: "bench",
      });
      const calls = Array.from({ length: FANOUT_CALLS }, (_, i) => self.noop(i));
      const results = await CapstanPromise.all(calls);
      return { n: results.length };
    },
  },
});

export const counter = object({
  name: "counter",
  handlers: {
    add: async (ctx, delta: number) => {
      const count = ((await ctx.get<number>("count")) ?? 0) + delta;
      ctx.set("count", count);
      return count;
    },
  },
});
