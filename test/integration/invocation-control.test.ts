/**
 * Awakeables, cancellation, kill, pause/resume, delayed sends and calls, driven through the real
 * ingress and admin HTTP APIs of an embedded runtime.
 */
import { CancelledError, CapstanPromise, object, service, TerminalError } from "@capstan/sdk";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

const log: string[] = [];
let flakyFailures = 0;

const worker = service({
  name: "Worker",
  handlers: {
    waitForApproval: async (ctx, _input: unknown) => {
      const approval = ctx.awakeable<string>();
      await ctx.run("publish-awakeable-id", () => {
        log.push(`awakeable:${approval.id}`);
      });
      return `approved by ${await approval.promise}`;
    },
    longTask: async (ctx, name: string) => {
      await ctx.run("reserve", () => void log.push(`reserve:${name}`));
      try {
        await ctx.sleep({ hours: 1 });
      } catch (e) {
        if (e instanceof CancelledError) {
          await ctx.run("release", () => void log.push(`release:${name}`));
        }
        throw e;
      }
      return "finished";
    },
    flaky: async (ctx) => {
      await ctx.run("always-fails", () => {
        flakyFailures++;
        throw new Error("downstream unavailable");
      });
    },
    double: async (_ctx, n: number) => n * 2,
    fanout: async (ctx, n: number) => {
      const calls = Array.from({ length: n }, (_, i) =>
        ctx
          .serviceClient<{ double: (ctx: unknown, n: number) => Promise<number> }>({ name: "Worker" })
          .double(i),
      );
      const results = await CapstanPromise.all(calls);
      return results.reduce((a, b) => a + b, 0);
    },
    rejectMe: async () => {
      throw new TerminalError("nope", { code: 409 });
    },
  },
});

const mailbox = object({
  name: "Mailbox",
  handlers: {
    deliver: async (ctx, msg: string) => {
      const all = (await ctx.get<string[]>("messages")) ?? [];
      all.push(msg);
      ctx.set("messages", all);
    },
  },
});

async function post(url: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined && { body }),
  });
}

describe("invocation control", () => {
  let env: TestEnvironment;
  const admin = (path: string, method = "POST"): Promise<Response> =>
    fetch(`${env.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${env.adminToken}` } });
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [worker, mailbox], time: "manual" });
  });
  afterAll(async () => env.close());

  test("an awakeable is resolved over the ingress", async () => {
    const id = await env.send("Worker", "waitForApproval", null);
    await env.settle();
    const line = log.find((l) => l.startsWith("awakeable:"));
    expect(line).toBeDefined();
    const awakeableId = line!.slice("awakeable:".length);
    const res = await post(
      `${env.ingressUrl}/restate/awakeables/${awakeableId}/resolve`,
      JSON.stringify("ops"),
    );
    expect(res.status).toBe(202);
    await expect(env.result(id)).resolves.toBe("approved by ops");
    const again = await post(`${env.ingressUrl}/restate/awakeables/awk_inv_1_doesnotexist00_3/resolve`, "1");
    expect(again.status).toBe(404);
  });

  test("cancel reaches a sleeping handler, which compensates", async () => {
    const id = await env.send("Worker", "longTask", "job1");
    await env.settle();
    expect((await env.describe(id))!.status).toBe("suspended");
    const res = await admin(`/invocations/${id}/cancel`);
    expect(res.status).toBeLessThan(300);
    await expect(env.result(id)).rejects.toMatchObject({ code: 409 });
    expect(log.filter((l) => l.endsWith(":job1"))).toEqual(["reserve:job1", "release:job1"]);
  });

  test("kill stops an invocation without running compensation", async () => {
    const id = await env.send("Worker", "longTask", "job2");
    await env.settle();
    expect((await admin(`/invocations/${id}/kill`)).status).toBeLessThan(300);
    await expect(env.result(id)).rejects.toMatchObject({ code: 409 });
    expect(log.filter((l) => l.endsWith(":job2"))).toEqual(["reserve:job2"]);
  });

  test("a failing step backs off, never hot-loops, and can be paused and resumed", async () => {
    const id = await env.send("Worker", "flaky", null);
    await env.settle();
    expect(flakyFailures).toBe(1);
    expect((await env.describe(id))!.status).toBe("backing-off");
    // No time passes: no retry happens.
    await env.settle();
    expect(flakyFailures).toBe(1);
    await env.advanceTime(600);
    expect(flakyFailures).toBe(2);
    expect((await admin(`/invocations/${id}/pause`)).status).toBeLessThan(300);
    await env.advanceTime(3_600_000);
    expect(flakyFailures).toBe(2);
    expect((await env.describe(id))!.status).toBe("paused");
    expect((await admin(`/invocations/${id}/resume`)).status).toBeLessThan(300);
    await env.settle();
    expect(flakyFailures).toBe(3);
    // It fails before any await the runtime completes: a cancel stays requested, and says so.
    expect((await admin(`/invocations/${id}/cancel`)).status).toBeLessThan(300);
    await env.settle();
    expect(await env.describe(id)).toMatchObject({ status: "backing-off", cancelRequested: true });
    await admin(`/invocations/${id}/kill`);
    const killed = (await env.describe(id))!;
    expect(killed).toMatchObject({
      status: "completed",
      result: { kind: "failure", failure: { name: "KilledError", code: 409 } },
    });
    expect(killed.cancelRequested).toBeUndefined();
  });

  test("a delayed send never runs early, and says when it starts", async () => {
    const res = await post(`${env.ingressUrl}/Mailbox/bob/deliver/send?delay=10s`, JSON.stringify("hi"));
    expect(res.status).toBe(202);
    const { invocationId, executionTime } = (await res.json()) as {
      invocationId: string;
      executionTime: string;
    };
    const described = (await (await admin(`/invocations/${invocationId}`, "GET")).json()) as {
      status: string;
      scheduledAtMs: number;
    };
    expect(described).toMatchObject({ status: "scheduled", scheduledAtMs: Date.parse(executionTime) });
    await env.advanceTime(5_000);
    // A repeat with another delay, later: the answer is the first request's schedule.
    const first = await post(`${env.ingressUrl}/Mailbox/dan/deliver/send?delay=1h`, '"x"', {
      "idempotency-key": "d-1",
    });
    const original = ((await first.json()) as { executionTime: string }).executionTime;
    await env.advanceTime(1_000);
    const again = await post(`${env.ingressUrl}/Mailbox/dan/deliver/send?delay=10m`, '"x"', {
      "idempotency-key": "d-1",
    });
    expect(await again.json()).toMatchObject({ status: "PreviouslyAccepted", executionTime: original });
    await env.advanceTime(3_999);
    expect(await env.state("Mailbox", "bob")).toEqual({});
    await env.advanceTime(1);
    expect(await env.state("Mailbox", "bob")).toEqual({ messages: ["hi"] });
  });

  test("calls fan out and their results come back into one invocation", async () => {
    const res = await post(`${env.ingressUrl}/Worker/fanout`, "10");
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(90);
  });

  test("attach and output by idempotency key, as Restate's paths name them", async () => {
    const sent = await post(`${env.ingressUrl}/Mailbox/carol/deliver/send`, JSON.stringify("hello"), {
      "idempotency-key": "m-1",
    });
    expect(sent.status).toBe(202);
    const attached = await fetch(`${env.ingressUrl}/restate/invocation/Mailbox/carol/deliver/m-1/attach`);
    expect(attached.status).toBe(200);
    expect(attached.headers.get("x-restate-id")).toBe(
      ((await sent.json()) as { invocationId: string }).invocationId,
    );
    const output = await fetch(`${env.ingressUrl}/restate/invocation/Worker/double/none/output`);
    expect(output.status).toBe(404);
    await post(`${env.ingressUrl}/Worker/double`, "21", { "idempotency-key": "d-1" });
    const doubled = await fetch(`${env.ingressUrl}/restate/invocation/Worker/double/d-1/output`);
    expect(await doubled.json()).toBe(42);
  });

  test("a terminal failure keeps its status code over HTTP", async () => {
    const res = await post(`${env.ingressUrl}/Worker/rejectMe`, "null");
    expect(res.status).toBe(409);
    expect(res.headers.get("x-restate-id")).toMatch(/^inv_/);
  });

  test("a checkpoint without the attempt's credential is refused", async () => {
    const id = await env.send("Worker", "longTask", "job3");
    await env.settle();
    const res = await post(
      `${env.checkpointUrl}/internal/v1/checkpoint`,
      JSON.stringify({ type: "checkpoint", protocolVersion: 1, entries: [], pending: [] }),
      { "x-capstan-invocation-id": id, "x-capstan-attempt-token": "a0" },
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("CHECKPOINT_UNAUTHORIZED");
    await admin(`/invocations/${id}/kill`);
  });
});
