import { object, shared } from "@capstan/sdk";

/** A virtual object the integration suites share: `add(delta)` returns the new count; `get` reads it. */
export const counter = object({
  name: "Counter",
  handlers: {
    add: async (ctx, delta: number) => {
      const v = ((await ctx.get<number>("count")) ?? 0) + delta;
      ctx.set("count", v);
      return v;
    },
    get: shared(async (ctx) => (await ctx.get<number>("count")) ?? 0),
  },
});
