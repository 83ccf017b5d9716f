/**
 * race/any/orTimeout are decided by the journal's `completionOrder`, never by array or microtask order,
 * so a replay (where every recorded result is available at once) picks the winner the original
 * execution picked.
 */
import type { CheckpointAck, EntryCompletion, InvokeResponse } from "../protocol";
import { CapstanPromise, createEndpoint, isTimeoutError, service } from "../index";
import { startCheckpointServer } from "../test-support/checkpoint-server";
import { invokeRequest, j } from "../test-support/journal-builder";

const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
const lambdaTime = { remainingTimeMs: () => 60_000 };
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const value = (v: unknown) => ({ kind: "value" as const, value: j(v) });
const failure = (message: string) => ({ kind: "failure" as const, failure: { code: 500, message } });
const EMPTY = { kind: "empty" as const };

const combinators = service({
  name: "Combinators",
  handlers: {
    race: async (ctx) => {
      const a = ctx.awakeable<string>().promise;
      const b = ctx.awakeable<string>().promise;
      return CapstanPromise.race([a, b]);
    },
    any: async (ctx) => {
      const a = ctx.awakeable<string>().promise;
      const b = ctx.awakeable<string>().promise;
      const c = ctx.awakeable<string>().promise;
      return CapstanPromise.any([a, b, c]).catch((e: unknown) =>
        e instanceof AggregateError ? `all failed: ${e.errors.map((x: Error) => x.message).join(",")}` : "?",
      );
    },
    nested: async (ctx) => {
      const x = ctx.awakeable<string>().promise;
      const y = ctx.awakeable<string>().promise;
      const z = ctx.awakeable<string>().promise;
      return CapstanPromise.race([CapstanPromise.all([x, y]), z]);
    },
    approval: async (ctx) => {
      const awk = ctx.awakeable<string>();
      try {
        const v = await awk.promise.orTimeout({ seconds: 5 });
        return await ctx.run("approved", () => `approved ${v}`);
      } catch (e) {
        if (!isTimeoutError(e)) throw e;
        return await ctx.run("compensate", () => "compensated");
      }
    },
    step: async (ctx) => {
      const awk = ctx.awakeable<string>();
      const step = ctx.run("step", () => "step");
      return CapstanPromise.race([step, awk.promise]);
    },
  },
});

async function replay(handler: string, entries: object[]): Promise<InvokeResponse> {
  return (await createEndpoint(combinators, { logger: silent }).handle(
    invokeRequest({ service: "Combinators", handler }, undefined, entries),
  )) as InvokeResponse;
}
const awk = (_name: string, result?: object, completionOrder?: number) => ({
  kind: "awakeable",
  ...(result !== undefined && { result }),
  ...(completionOrder !== undefined && { completionOrder }),
});

describe("replay picks the winner by completionOrder", () => {
  test("race: the later candidate in the array wins when its result was recorded first", async () => {
    const res = await replay("race", [awk("a", value("A"), 2), awk("b", value("B"), 1)]);
    expect(res.outcome).toEqual({ kind: "completed", value: j("B") });
    const other = await replay("race", [awk("a", value("A"), 1), awk("b", value("B"), 2)]);
    expect(other.outcome).toEqual({ kind: "completed", value: j("A") });
  });

  test("race: a rejection recorded first wins over a later value", async () => {
    const res = await replay("race", [awk("a", value("A"), 2), awk("b", failure("boom"), 1)]);
    expect(res.outcome).toMatchObject({ kind: "failed", failure: { message: "boom" } });
  });

  test("race: a candidate without a result never wins over one with a result", async () => {
    const res = await replay("race", [awk("a"), awk("b", value("B"), 7)]);
    expect(res.outcome).toEqual({ kind: "completed", value: j("B") });
  });

  test("race: a journal without completionOrder replays as before (array order)", async () => {
    const res = await replay("race", [awk("a", value("A")), awk("b", value("B"))]);
    expect(res.outcome).toEqual({ kind: "completed", value: j("A") });
  });

  test("any: the earliest fulfilment wins, skipping earlier failures; all failed → AggregateError", async () => {
    const res = await replay("any", [
      awk("a", value("A"), 3),
      awk("b", failure("b failed"), 1),
      awk("c", value("C"), 2),
    ]);
    expect(res.outcome).toEqual({ kind: "completed", value: j("C") });
    const none = await replay("any", [
      awk("a", failure("a"), 3),
      awk("b", failure("b"), 1),
      awk("c", failure("c"), 2),
    ]);
    expect(none.outcome).toEqual({ kind: "completed", value: j("all failed: a,b,c") });
  });

  test("nested: an all ranks by its last child, and competes with the others by that rank", async () => {
    const allWins = await replay("nested", [
      awk("x", value("X"), 1),
      awk("y", value("Y"), 2),
      awk("z", value("Z"), 3),
    ]);
    expect(allWins.outcome).toEqual({ kind: "completed", value: j(["X", "Y"]) });
    const zWins = await replay("nested", [
      awk("x", value("X"), 1),
      awk("y", value("Y"), 3),
      awk("z", value("Z"), 2),
    ]);
    expect(zWins.outcome).toEqual({ kind: "completed", value: j("Z") });
  });

  test("orTimeout: the timer fired first, the awakeable was resolved later → TimeoutError branch", async () => {
    const res = await replay("approval", [
      awk("approval", value("late"), 2),
      { kind: "sleep", durationMs: 5000, wakeUpAtMs: 5000, result: EMPTY, completionOrder: 1 },
    ]);
    // The replay takes the timeout branch again: the next command is run("compensate"), no divergence.
    expect(res.outcome).toEqual({ kind: "suspended", awaiting: [3] });
    expect(res.entries).toMatchObject([{ index: 3, kind: "run", name: "compensate" }]);
  });

  test("orTimeout: the awakeable resolved first → its value, even though the timer fired too", async () => {
    const res = await replay("approval", [
      awk("approval", value("ok"), 1),
      { kind: "sleep", durationMs: 5000, wakeUpAtMs: 5000, result: EMPTY, completionOrder: 2 },
    ]);
    expect(res.entries).toMatchObject([{ index: 3, kind: "run", name: "approved" }]);
  });
});

describe("a checkpoint ack with several completions", () => {
  async function live(
    handler: string,
    respond: (nth: number) => EntryCompletion[] | CheckpointAck,
  ): Promise<{ res: InvokeResponse; received: number }> {
    const server = await startCheckpointServer((cp, nth) => {
      const answer = respond(nth);
      if (Array.isArray(answer)) return answer.filter((c) => cp.pending.includes(c.index));
      return { status: 200, body: answer };
    });
    servers.push(server);
    const res = (await createEndpoint(combinators, { logger: silent }).handle(
      invokeRequest({ service: "Combinators", handler }, undefined, [], { checkpoint: { url: server.url } }),
      lambdaTime,
    )) as InvokeResponse;
    return { res, received: server.received.length };
  }

  test("orTimeout: both completions in one ack, listed in reverse order; the timer's came first", async () => {
    const { res } = await live("approval", (nth) =>
      nth === 1
        ? [
            { index: 1, result: value("late"), completionOrder: 2 },
            { index: 2, result: EMPTY, wakeUpAtMs: 5000, completionOrder: 1 },
          ]
        : [],
    );
    expect(res.outcome).toEqual({ kind: "completed", value: j("compensated") });
  });

  test("orTimeout: both completions in one ack; the awakeable's came first", async () => {
    const { res } = await live("approval", (nth) =>
      nth === 1
        ? [
            { index: 2, result: EMPTY, wakeUpAtMs: 5000, completionOrder: 2 },
            { index: 1, result: value("ok"), completionOrder: 1 },
          ]
        : [],
    );
    expect(res.outcome).toEqual({ kind: "completed", value: j("approved ok") });
  });

  test("a run's order comes back in recordedOrders and ranks it against runtime completions", async () => {
    const ack = (completionOrderOfRun: number, completionOrderOfAwk: number): CheckpointAck => ({
      type: "checkpoint-ack",
      protocolVersion: 1,
      journalLength: 3,
      completions: [{ index: 1, result: value("signal"), completionOrder: completionOrderOfAwk }],
      recordedOrders: [{ index: 2, completionOrder: completionOrderOfRun }],
    });
    const awkFirst = await live("step", () => ack(2, 1));
    expect(awkFirst.res.outcome).toEqual({ kind: "completed", value: j("signal") });
    const runFirst = await live("step", () => ack(1, 2));
    expect(runFirst.res.outcome).toEqual({ kind: "completed", value: j("step") });
  });
});
