/**
 * orTimeout is deterministic on replay: once the timer has won, an awakeable resolved later must not
 * win when the invocation replays (both entries then have a result; completionOrder decides).
 */
import { isTimeoutError, service } from "@capstan/sdk";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

const steps: string[] = [];
let awakeableId: string | undefined;

const approvals = service({
  name: "Approvals",
  handlers: {
    request: async (ctx) => {
      const awk = ctx.awakeable<string>();
      awakeableId = awk.id;
      try {
        const decision = await awk.promise.orTimeout({ seconds: 5 });
        return await ctx.run("approved", () => {
          steps.push("approved");
          return `approved: ${decision}`;
        });
      } catch (e) {
        if (!isTimeoutError(e)) throw e;
        await ctx.run("compensate", () => {
          steps.push("compensate");
        });
        await ctx.sleep({ hours: 1 });
        return "timed out";
      }
    },
  },
});

describe.each([false, true])("orTimeout on replay (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [approvals], time: "manual", alwaysReplay });
  });
  afterAll(async () => env.close());

  test("the timeout won; an awakeable resolved late does not change the branch on replay", async () => {
    steps.length = 0;
    const id = await env.send("Approvals", "request");
    await env.settle();
    expect((await env.describe(id))?.status).toBe("suspended");

    // The timer fires first: the handler compensates and sleeps for an hour.
    await env.advanceTime(6_000);
    expect(steps).toEqual(["compensate"]);
    expect((await env.describe(id))?.status).toBe("suspended");

    // The approval arrives late: recorded in the journal, after the timer's completion.
    await env.runtime.completeAwakeable(awakeableId!, { kind: "value", value: JSON.stringify("yes") });
    await env.settle();
    expect((await env.describe(id))?.status).toBe("suspended");

    // An hour later the invocation replays with both results and takes the timeout branch again.
    await env.advanceTime(3_600_000);
    await expect(env.result(id)).resolves.toBe("timed out");
    const detail = (await env.describe(id))!;
    expect(detail.status).toBe("completed");
    expect(detail.lastFailure).toBeUndefined();
    expect(steps).toEqual(["compensate"]);

    const journal = detail.journal;
    const order = (kind: string): number | undefined => {
      const entry = journal.find((e) => e.kind === kind);
      return entry && "completionOrder" in entry ? entry.completionOrder : undefined;
    };
    expect(order("sleep")).toBeLessThan(order("awakeable")!);
  });
});
