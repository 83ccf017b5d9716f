/**
 * Counter: a virtual object, one counter per key (`POST /Counter/{key}/add`). Exclusive handlers on
 * one key run one at a time, so read-modify-write needs no locks and loses no update; the state write
 * commits atomically with the journal, so a crash never counts twice.
 */
import { object, shared, TerminalError, type ObjectContext, type ObjectSharedContext } from "@capstan/sdk";

/** Largest step of one `add`: keeps the total far from Number.MAX_SAFE_INTEGER. */
export const MAX_DELTA = 1_000_000;

export const counter = object({
  name: "Counter",
  handlers: {
    /** Adds `delta` (an integer, may be negative) and returns the new count. */
    async add(ctx: ObjectContext, delta: number): Promise<number> {
      if (!Number.isInteger(delta) || Math.abs(delta) > MAX_DELTA) {
        throw new TerminalError(`delta must be an integer from -${MAX_DELTA} to ${MAX_DELTA}`, { code: 400 });
      }
      const count = ((await ctx.get<number>("count")) ?? 0) + delta;
      ctx.set("count", count);
      return count;
    },

    /** Back to zero. */
    async reset(ctx: ObjectContext): Promise<void> {
      ctx.clear("count");
    },

    /** The current count; shared, so it never waits behind an `add`. */
    get: shared(async (ctx: ObjectSharedContext): Promise<number> => (await ctx.get<number>("count")) ?? 0),
  },
});
