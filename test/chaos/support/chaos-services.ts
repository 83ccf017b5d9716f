/**
 * The handlers of the crash test, served from the test process so the HandlerObserver sees every side
 * effect. Each exercises one guarantee under SIGKILL:
 * - Counter.add (exclusive): get+set plus a one-way send to Audit in the same attempt — exactly-once
 *   state updates, and outgoing messages atomic with the journal (Audit must see every value once).
 * - Tally.add (exclusive, reached by one-way ingress sends): appends the request id to its state.
 * - Steps.run: three instrumented ctx.run steps — a recorded step is never re-executed.
 * - Sleeper.nap: ctx.sleep then a step; Sleeper.delayed: reached by `/send?delay=` — timers never early.
 * - Caller.steps: calls Steps.run and returns its output — a call's result reaches its caller once.
 */
import { object, service } from "@capstan/sdk";
import type { HandlerObserver } from "./handler-observer";

export interface StepsOutput {
  s1: string;
  s2: string;
  s3: string;
}

export interface NapOutput {
  t0: number;
  ms: number;
  woke: string;
}

export function chaosServices(observer: HandlerObserver) {
  const audit = object({
    name: "Audit",
    handlers: {
      record: async (ctx, value: number) => {
        const values = (await ctx.get<number[]>("values")) ?? [];
        values.push(value);
        ctx.set("values", values);
      },
    },
  });

  const counter = object({
    name: "Counter",
    handlers: {
      add: async (ctx, delta: number) => {
        const value = ((await ctx.get<number>("count")) ?? 0) + delta;
        await observer.pause(3);
        ctx.set("count", value);
        ctx.objectSendClient(audit, ctx.key).record(value);
        return value;
      },
    },
  });

  const tally = object({
    name: "Tally",
    handlers: {
      add: async (ctx, requestId: string) => {
        const ids = (await ctx.get<string[]>("ids")) ?? [];
        await observer.pause(3);
        ids.push(requestId);
        ctx.set("ids", ids);
        return ids.length;
      },
    },
  });

  const steps = service({
    name: "Steps",
    handlers: {
      run: async (ctx): Promise<StepsOutput> => {
        const s1 = await observer.step(ctx, "s1");
        const s2 = await observer.step(ctx, "s2");
        const s3 = await observer.step(ctx, "s3");
        return { s1, s2, s3 };
      },
    },
  });

  const sleeper = service({
    name: "Sleeper",
    handlers: {
      nap: async (ctx, input: { ms: number }): Promise<NapOutput> => {
        const t0 = await observer.now(ctx);
        await ctx.sleep(input.ms);
        const id = ctx.request().id;
        const woke = await observer.step(ctx, "woke", () => observer.recordWake("sleep", id, t0 + input.ms));
        return { t0, ms: input.ms, woke };
      },
      delayed: async (ctx, input: { notBeforeMs: number }): Promise<string> => {
        const id = ctx.request().id;
        return observer.step(ctx, "fired", () => observer.recordWake("delayed-send", id, input.notBeforeMs));
      },
    },
  });

  const caller = service({
    name: "Caller",
    handlers: {
      /** A call to another handler: its result comes back as a completion of this journal. */
      steps: async (ctx): Promise<StepsOutput> => ctx.serviceClient(steps).run(),
    },
  });

  return [audit, counter, tally, steps, sleeper, caller];
}
