/**
 * The test kit's helpers as a user's test uses them: time moves with advanceTime without a manual
 * settle first, awakeables are resolved and rejected from the test, a test waits until a handler is
 * blocked on a given entry, and reads the journal.
 */
import { service, TerminalError } from "@capstan/sdk";
import { startTestEnvironment, type TestEnvironment } from "./index";

const reminder = service({
  name: "Reminder",
  handlers: {
    remind: async (ctx, who: string) => {
      await ctx.sleep({ days: 1 }, "a-day");
      return `reminded ${who}`;
    },
  },
});

const approvals = service({
  name: "Approvals",
  handlers: {
    request: async (ctx, doc: string) => {
      await ctx.run("file", () => doc.length);
      const approval = ctx.awakeable<string>();
      try {
        return `${doc}: ${await approval.promise}`;
      } catch (e) {
        if (e instanceof TerminalError) return `${doc}: rejected (${e.message})`;
        throw e;
      }
    },
    quick: async () => "no wait",
  },
});

describe("test kit", () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await startTestEnvironment({ services: [reminder, approvals], time: "manual" });
  });
  afterEach(async () => env.close());

  it("advanceTime settles first: a just-sent sleep is armed before the clock moves", async () => {
    const id = await env.send("Reminder", "remind", "ada");
    await env.advanceTime(24 * 3_600_000);
    expect(await env.runtime.output(id)).toEqual({
      ready: true,
      result: { kind: "value", value: '"reminded ada"' },
    });
  });

  it("waits until a handler blocks on an entry, then resolves or rejects its awakeable", async () => {
    const approved = await env.send("Approvals", "request", "budget");
    const entry = await env.waitUntilSuspended(approved, { kind: "awakeable" });
    expect(entry).toMatchObject({ kind: "awakeable", index: 2 });
    await env.resolveAwakeable(env.awakeableId(approved, entry), "yes");
    expect(await env.result(approved)).toBe("budget: yes");

    const rejected = await env.send("Approvals", "request", "trip");
    const waiting = await env.waitUntilSuspended(rejected, { kind: "awakeable" });
    await env.rejectAwakeable(env.awakeableId(rejected, waiting.index), "over budget");
    expect(await env.result(rejected)).toBe("trip: rejected (over budget)");
    expect((await env.journal(rejected)).map((e) => e.kind)).toEqual(["input", "run", "awakeable", "output"]);
  });

  it("waits for a named entry, and says why when the invocation will not block on it", async () => {
    const sleeping = await env.send("Reminder", "remind", "bob");
    expect(await env.waitUntilSuspended(sleeping, { kind: "sleep", name: "a-day" })).toMatchObject({
      kind: "sleep",
      name: "a-day",
    });
    const quick = await env.send("Approvals", "quick");
    await expect(env.waitUntilSuspended(quick, { kind: "awakeable" })).rejects.toThrow(
      /is completed, awaiting \[\]: it will not block on an entry awakeable/,
    );
  });
});
