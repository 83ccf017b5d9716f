import fc from "fast-check";
import type { InvokeResponse } from "../protocol";
import { MAX_VALUE_BYTES } from "../protocol";
import {
  CapstanPromise,
  createEndpoint,
  isCancelledError,
  isTerminalError,
  object,
  RetryableError,
  service,
  shared,
  TerminalError,
} from "../index";
import { DeterministicRand } from "../context/rand";
import { drive } from "../test-support/mini-runtime";
import { invokeRequest, j } from "../test-support/journal-builder";
import { greeter, kitchenSink, runCounts } from "../test-support/kitchen-sink";
import { kitchenSinkCompleter } from "../test-support/kitchen-sink-completer";

const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
const handle = async (ep: ReturnType<typeof createEndpoint>, req: unknown) =>
  (await ep.handle(req)) as InvokeResponse;

describe("replay in request/response mode", () => {
  test("every entry kind records once, suspends at each await, and replays without re-running steps", async () => {
    const endpoint = createEndpoint(greeter, kitchenSink, { logger: silent });
    const before = runCounts.step;

    const r = await drive(
      endpoint,
      { service: "KitchenSink", handler: "run", key: "w" },
      "ann",
      kitchenSinkCompleter,
    );

    expect(r.last.outcome).toMatchObject({ kind: "completed" });
    const out = JSON.parse((r.last.outcome as { value: string }).value);
    expect(out).toMatchObject({
      step: "s-ann",
      greeting: "hello ann",
      awoken: "self",
      promised: "done",
      attached: "attached",
    });
    expect(out.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(runCounts.step - before).toBe(1);
    // Each suspension named exactly the entry the handler was blocked on.
    const suspended = r.responses.filter((x) => x.outcome.kind === "suspended");
    expect(suspended.map((x) => x.outcome)).toEqual(
      ["run", "sleep", "call", "awakeable", "promisePeek", "promiseComplete", "promiseGet", "attach"].map(
        (kind) => ({
          kind: "suspended",
          awaiting: [r.journal.findIndex((e) => e.kind === kind)],
        }),
      ),
    );
    expect(r.state).toEqual({ done: "true" });
  });

  test("suspension lists every entry behind a combinator; orTimeout adds its timer", async () => {
    const fan = service({
      name: "Fan",
      handlers: {
        out: async (ctx) => {
          const calls = [1, 2, 3].map((n) => ctx.serviceClient(greeter).greet(`n${n}`));
          const all = await CapstanPromise.all(calls);
          const raced = await ctx.serviceClient(greeter).greet("slow").orTimeout({ seconds: 5 });
          return [all, raced];
        },
      },
    });
    const endpoint = createEndpoint(greeter, fan);

    const first = await handle(endpoint, invokeRequest({ service: "Fan", handler: "out" }, undefined));
    expect(first.outcome).toEqual({ kind: "suspended", awaiting: [1, 2, 3] });
    expect(first.entries.map((e) => e.kind)).toEqual(["call", "call", "call"]);

    const done = (n: string) => ({ kind: "value" as const, value: j(`hello ${n}`) });
    const second = await handle(
      endpoint,
      invokeRequest({ service: "Fan", handler: "out" }, undefined, [
        ...first.entries.map((e, i) => ({ ...e, result: done(`n${i + 1}`) })),
      ]),
    );
    expect(second.outcome).toEqual({ kind: "suspended", awaiting: [4, 5] });
    expect(second.entries.map((e) => e.kind)).toEqual(["call", "sleep"]);

    // The timer fires first: TimeoutError, a terminal failure of the invocation.
    const third = await handle(
      endpoint,
      invokeRequest({ service: "Fan", handler: "out" }, undefined, [
        ...first.entries.map((e, i) => ({ ...e, result: done(`n${i + 1}`) })),
        second.entries[0]!,
        { ...second.entries[1]!, result: { kind: "empty" } },
      ]),
    );
    expect(third.outcome).toMatchObject({ kind: "failed", failure: { code: 408, name: "TimeoutError" } });
  });

  test("a counter's get+set+return costs one request and no suspension", async () => {
    const counter = object({
      name: "Counter",
      handlers: {
        add: async (ctx, n: number) => {
          const v = ((await ctx.get<number>("v")) ?? 0) + n;
          ctx.set("v", v);
          return v;
        },
      },
    });
    const res = await handle(
      createEndpoint(counter),
      invokeRequest({ service: "Counter", handler: "add", key: "a" }, 5, [], {
        state: { complete: true, values: { v: "10" } },
      }),
    );
    expect(res.outcome).toEqual({ kind: "completed", value: "15" });
    expect(res.entries).toEqual([
      { index: 1, kind: "getState", key: "v", result: { kind: "value", value: "10" } },
      { index: 2, kind: "setState", key: "v", value: "15" },
    ]);
  });

  test("lazy state: a key missing from partial eager state is fetched through the runtime", async () => {
    const reader = object({
      name: "Reader",
      handlers: { read: shared(async (ctx) => ctx.get<string>("k")) },
    });
    const endpoint = createEndpoint(reader);
    const target = { service: "Reader", handler: "read", key: "a" };

    const first = await handle(
      endpoint,
      invokeRequest(target, undefined, [], { state: { complete: false, values: {} } }),
    );
    expect(first.outcome).toEqual({ kind: "suspended", awaiting: [1] });
    expect(first.entries).toEqual([{ index: 1, kind: "getState", key: "k" }]);

    const second = await handle(
      endpoint,
      invokeRequest(target, undefined, [
        { kind: "getState", key: "k", result: { kind: "value", value: j("v") } },
      ]),
    );
    expect(second.outcome).toEqual({ kind: "completed", value: j("v") });
  });

  test("state rules: shared handlers cannot write, services have no state", async () => {
    const obj = object({
      name: "Obj",
      handlers: {
        peek: shared(async (ctx) => (ctx as unknown as { set(k: string, v: number): void }).set("k", 1)),
      },
    });
    const svc = service({
      name: "Svc",
      handlers: { s: async (ctx) => (ctx as unknown as { get(k: string): Promise<unknown> }).get("k") },
    });
    const endpoint = createEndpoint(obj, svc);

    const a = await handle(endpoint, invokeRequest({ service: "Obj", handler: "peek", key: "k" }, undefined));
    const b = await handle(endpoint, invokeRequest({ service: "Svc", handler: "s" }, undefined));
    const c = await handle(endpoint, invokeRequest({ service: "Nope", handler: "x" }, undefined));

    expect(a.outcome).toMatchObject({
      kind: "failed",
      failure: { message: expect.stringContaining("SDK_STATE_READ_ONLY") },
    });
    expect(b.outcome).toMatchObject({
      kind: "failed",
      failure: { message: expect.stringContaining("SDK_STATE_UNAVAILABLE") },
    });
    expect(c.outcome).toMatchObject({
      kind: "failed",
      failure: { code: 404, message: expect.stringContaining("SDK_UNKNOWN_HANDLER") },
    });
  });

  test("alwaysReplay suspends after every new completable entry and reaches the same result", async () => {
    let bodies = 0;
    const steps = object({
      name: "Steps",
      handlers: {
        go: async (ctx) => {
          const a = await ctx.run("a", () => ++bodies);
          const b = await ctx.run("b", () => ++bodies);
          const v = await ctx.get<number>("v");
          ctx.set("v", a + b);
          return [a, b, v];
        },
      },
    });
    const target = { service: "Steps", handler: "go", key: "k" };
    const normal = await drive(createEndpoint(steps), target, undefined, () => undefined, {
      state: { v: "7" },
    });
    bodies = 0;
    const replayed = await drive(
      createEndpoint(steps, { alwaysReplay: true }),
      target,
      undefined,
      () => undefined,
      {
        state: { v: "7" },
      },
    );

    expect(replayed.last.outcome).toEqual(normal.last.outcome);
    expect(replayed.last.outcome).toEqual({ kind: "completed", value: "[1,2,7]" });
    expect(bodies).toBe(2);
    expect(replayed.attempts).toBe(4); // run a, run b, getState, then completion
    expect(replayed.responses.slice(0, 3).map((r) => r.outcome)).toEqual([
      { kind: "suspended", awaiting: [1] },
      { kind: "suspended", awaiting: [2] },
      { kind: "suspended", awaiting: [3] },
    ]);
  });

  test("determinism: ctx.rand is a pure function of the invocation id", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (id) => {
        const a = new DeterministicRand(id);
        const b = new DeterministicRand(id);
        const seqA = [a.random(), a.uuidv4(), a.random()];
        expect([b.random(), b.uuidv4(), b.random()]).toEqual(seqA);
        expect(seqA[0]).toBeGreaterThanOrEqual(0);
        expect(seqA[0]).toBeLessThan(1);
        expect(seqA[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }),
    );
    expect(new DeterministicRand("inv_1_aaaaaaaa").random()).not.toBe(
      new DeterministicRand("inv_1_aaaaaaab").random(),
    );
  });

  test("ctx.console is silent while replaying and logs new work", async () => {
    const lines: unknown[][] = [];
    const logger = { ...silent, info: (...a: unknown[]) => lines.push(a) };
    const svc = service({
      name: "Log",
      handlers: {
        go: async (ctx) => {
          ctx.console.info("before");
          await ctx.run("x", () => 1);
          ctx.console.info("after");
        },
      },
    });
    const endpoint = createEndpoint(svc, { logger });
    await endpoint.handle(
      invokeRequest({ service: "Log", handler: "go" }, undefined, [
        { kind: "run", name: "x", result: { kind: "value", value: "1" } },
      ]),
    );
    expect(lines.map((l) => l[1])).toEqual(["after"]);
    expect(String(lines[0]![0])).toMatch(/^\[Log\/go\]\[inv_[0-9]+_[0-9A-Za-z]+\]$/); // the invocation id
  });
});

describe("errors and outcomes", () => {
  test("TerminalError → failed with code/metadata; other errors → retry; RetryableError carries its delay", async () => {
    const svc = service({
      name: "E",
      handlers: {
        terminal: async () => {
          throw new TerminalError("nope", { code: 422, metadata: { field: "x" } });
        },
        plain: async () => {
          throw new Error("flaky");
        },
        later: async () => {
          throw new RetryableError("busy", { retryAfterMs: 1234 });
        },
        badInput: async (_ctx, n: number) => n,
      },
    });
    const ep = createEndpoint(svc);
    const t = (handler: string) => ({ service: "E", handler });
    expect((await handle(ep, invokeRequest(t("terminal"), undefined))).outcome).toEqual({
      kind: "failed",
      failure: { code: 422, message: "nope", name: "TerminalError", metadata: { field: "x" } },
    });
    expect((await handle(ep, invokeRequest(t("plain"), undefined))).outcome).toMatchObject({
      kind: "retry",
      error: { message: "flaky", name: "Error" },
    });
    expect((await handle(ep, invokeRequest(t("later"), undefined))).outcome).toMatchObject({
      kind: "retry",
      retryAfterMs: 1234,
      error: { name: "RetryableError" },
    });
    const bad = invokeRequest(t("badInput"), undefined);
    bad.journal[0] = { index: 0, kind: "input", value: "{not json" };
    expect((await handle(ep, bad)).outcome).toMatchObject({
      kind: "failed",
      failure: { code: 400, message: expect.stringContaining("SDK_SERIALIZATION") },
    });
  });

  test("ctx.run retries by ending the attempt, then records a catchable terminal failure when exhausted", async () => {
    let bodies = 0;
    const svc = service({
      name: "R",
      handlers: {
        go: async (ctx) => {
          try {
            await ctx.run(
              "charge",
              () => {
                bodies++;
                throw new Error(`declined #${bodies}`);
              },
              { maxAttempts: 3, initialIntervalMs: 100, factor: 2 },
            );
            return "charged";
          } catch (e) {
            if (!isTerminalError(e)) throw e;
            await ctx.run("release", () => "released");
            return e.message;
          }
        },
      },
    });
    const endpoint = createEndpoint(svc);

    const r = await drive(endpoint, { service: "R", handler: "go" }, undefined, () => undefined);

    expect(bodies).toBe(3);
    expect(r.responses.slice(0, 2).map((x) => x.outcome)).toEqual([
      expect.objectContaining({
        kind: "retry",
        retryAfterMs: 100,
        error: expect.objectContaining({ message: "declined #1" }),
      }),
      expect.objectContaining({ kind: "retry", retryAfterMs: 200 }),
    ]);
    expect(r.responses[2]!.entries[0]).toMatchObject({
      kind: "run",
      name: "charge",
      result: {
        kind: "failure",
        failure: { code: 500, message: expect.stringContaining("SDK_RUN_RETRIES_EXHAUSTED") },
      },
    });
    expect(JSON.parse((r.last.outcome as { value: string }).value)).toBe(
      'SDK_RUN_RETRIES_EXHAUSTED: run "charge" failed after 3 attempts: declined #3',
    );
  });

  test("ctx.run maxDurationMs counts from the first failure the runtime reports", async () => {
    const svc = service({
      name: "D",
      handlers: {
        go: async (ctx) =>
          ctx.run(
            "x",
            () => {
              throw new Error("down");
            },
            { maxDurationMs: 1000 },
          ),
      },
    });
    const req = invokeRequest({ service: "D", handler: "go" }, undefined, [], {
      retry: { attemptsSinceLastEntry: 4, firstFailureAtMs: 1_700_000_000_000 - 1000 },
    });
    const res = await handle(createEndpoint(svc), req);
    expect(res.entries[0]).toMatchObject({ kind: "run", result: { kind: "failure" } });
    expect(res.outcome).toEqual({ kind: "suspended", awaiting: [1] });
  });

  test("cancellation arrives as CancelledError at the await; compensation steps still run", async () => {
    let refunds = 0;
    const svc = service({
      name: "C",
      handlers: {
        go: async (ctx) => {
          await ctx.run("charge", () => "ok");
          try {
            await ctx.sleep({ days: 1 });
          } catch (e) {
            if (isCancelledError(e)) await ctx.run("refund", () => ++refunds);
            throw e;
          }
        },
      },
    });
    const r = await drive(createEndpoint(svc), { service: "C", handler: "go" }, undefined, (e) =>
      e.kind === "sleep"
        ? { kind: "failure", failure: { code: 409, message: "cancelled", name: "CancelledError" } }
        : undefined,
    );
    expect(refunds).toBe(1);
    expect(r.journal.map((e) => e.kind)).toEqual(["input", "run", "sleep", "run"]);
    expect(r.last.outcome).toEqual({
      kind: "failed",
      failure: { code: 409, message: "cancelled", name: "CancelledError" },
    });
  });

  test("oversized and unserializable values fail terminally with stable codes", async () => {
    const big = "x".repeat(MAX_VALUE_BYTES);
    const svc = object({
      name: "Big",
      handlers: {
        runResult: async (ctx) => {
          try {
            await ctx.run("big", () => big);
          } catch (e) {
            return (e as TerminalError).code;
          }
          return 0;
        },
        setBig: async (ctx) => ctx.set("k", big),
        bigint: async () => BigInt(1),
        cycle: async () => {
          const a: Record<string, unknown> = {};
          a.self = a;
          return a;
        },
        exact: async () => "x".repeat(MAX_VALUE_BYTES - 2), // quotes make it exactly MAX_VALUE_BYTES
      },
    });
    const ep = createEndpoint(svc);
    const t = (handler: string) => ({ service: "Big", handler, key: "k" });

    const run = await drive(ep, t("runResult"), undefined, () => undefined);
    expect(run.journal[1]).toMatchObject({
      kind: "run",
      result: { kind: "failure", failure: { code: 413 } },
    });
    expect(run.last.outcome).toEqual({ kind: "completed", value: "413" });
    expect((await handle(ep, invokeRequest(t("setBig"), undefined))).outcome).toMatchObject({
      kind: "failed",
      failure: {
        code: 413,
        message: expect.stringMatching(/^SDK_VALUE_TOO_LARGE: .*MAX_VALUE_BYTES \(1048576\)/),
      },
    });
    for (const h of ["bigint", "cycle"]) {
      expect((await handle(ep, invokeRequest(t(h), undefined))).outcome).toMatchObject({
        kind: "failed",
        failure: { code: 500, message: expect.stringContaining("SDK_SERIALIZATION") },
      });
    }
    expect((await handle(ep, invokeRequest(t("exact"), undefined))).outcome.kind).toBe("completed");
  });

  test("malformed messages reject with ProtocolError codes", async () => {
    const ep = createEndpoint(greeter);
    await expect(ep.handle({ type: "invoke" })).rejects.toMatchObject({
      name: "ProtocolError",
      code: "PROTOCOL_INVALID_MESSAGE",
    });
    await expect(ep.handle("{oops")).rejects.toMatchObject({ code: "PROTOCOL_BAD_JSON" });
    await expect(ep.handle({ type: "discover", protocolVersion: 99 })).rejects.toMatchObject({
      code: "PROTOCOL_UNSUPPORTED_VERSION",
    });
  });
});
