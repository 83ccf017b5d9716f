/**
 * The loop a user goes through when a handler has a bug: the invocation retries and pauses on the
 * buggy deployment; the fix is deployed; `resume --deployment latest` moves it onto the fix, where
 * its journal replays (recorded steps are not run again); a fix that changes the recorded steps is
 * reported as non-determinism; a completed invocation can be restarted as a new one. Driven through
 * the real admin HTTP API of an embedded runtime.
 */
import { service, TerminalError } from "@capstan/sdk";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

const sideEffects: string[] = [];
const noRetries = { retryPolicy: { maxAttempts: 1, onMaxAttempts: "pause" as const } };

/** One version of the Checkout service: `charge` is what differs between them. */
function checkout(version: string, charge: (total: number) => string, reserveStep = "reserve") {
  return service({
    name: "Checkout",
    options: noRetries,
    handlers: {
      place: async (ctx, total: number) => {
        await ctx.run(reserveStep, () => void sideEffects.push(`reserve:${version}`));
        const receipt = await ctx.run("charge", () => charge(total));
        return `${receipt} (${version})`;
      },
    },
  });
}

const buggy = checkout("v1", () => {
  throw new Error("charge: cannot read properties of undefined (reading 'cents')");
});
const fixed = checkout("v2", (total) => `charged ${total}`);
/** A "fix" that also renamed a step already in the journal. */
const renamed = checkout("v3", (total) => `charged ${total}`, "reserve-stock");

/** An admin answer's JSON, read loosely: the assertions check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads of arbitrary JSON
type Json = any;

async function admin(env: TestEnvironment, path: string, body?: unknown): Promise<[number, Json]> {
  const res = await fetch(env.adminUrl + path, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${env.adminToken}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return [res.status, await res.json()];
}

async function pausedInvocation(env: TestEnvironment): Promise<string> {
  const id = await env.send("Checkout", "place", 42);
  await env.settle();
  expect(await env.describe(id)).toMatchObject({ status: "paused" });
  return id;
}

describe("break, fix, resume", () => {
  let env: TestEnvironment;
  beforeEach(async () => {
    sideEffects.length = 0;
    env = await startTestEnvironment({ services: [buggy], time: "manual" });
  });
  afterEach(async () => env.close());

  it("resume alone retries the pinned, buggy code; --deployment latest replays the journal on the fix", async () => {
    const id = await pausedInvocation(env);
    const buggyDeployment = (await env.describe(id))!.deploymentId;
    const fixedDeployment = await env.deploy(fixed);

    // Without --deployment the invocation stays where it started: the bug again, paused again.
    expect(await admin(env, `/invocations/${id}/resume`, {})).toEqual([
      200,
      { invocationId: id, deploymentId: buggyDeployment, action: "resume" },
    ]);
    await env.settle();
    expect(await env.describe(id)).toMatchObject({
      status: "paused",
      lastFailure: { message: expect.stringContaining("cannot read properties") },
    });

    expect(await admin(env, `/invocations/${id}/resume`, { deployment: "latest" })).toEqual([
      200,
      { invocationId: id, deploymentId: fixedDeployment, action: "resume" },
    ]);
    expect(await env.result(id)).toBe("charged 42 (v2)");
    // The recorded `reserve` step was replayed, not run again on the new code.
    expect(sideEffects).toEqual(["reserve:v1"]);
  });

  it("reports a fix that changed recorded steps as non-determinism, and refuses an incompatible deployment", async () => {
    const id = await pausedInvocation(env);
    const renamedDeployment = await env.deploy(renamed);
    expect((await admin(env, `/invocations/${id}/resume`, { deployment: renamedDeployment }))[0]).toBe(200);
    await env.settle();
    const detail = await env.describe(id);
    expect(detail).toMatchObject({ status: "paused", deploymentId: renamedDeployment });
    expect(detail!.lastFailure!.message).toMatch(/^SDK_NON_DETERMINISM: /);
    expect(detail!.lastFailure!.message).toContain("reserve");

    const other = await env.deploy(
      service({ name: "Other", handlers: { place: async () => "not checkout" } }),
    );
    expect(await admin(env, `/invocations/${id}/resume`, { deployment: other })).toEqual([
      409,
      expect.objectContaining({ code: "ADMIN_DEPLOYMENT_INCOMPATIBLE" }),
    ]);
    expect(await admin(env, `/invocations/${id}/resume`, { deployment: "dp_nope" })).toEqual([
      404,
      expect.objectContaining({ code: "ADMIN_DEPLOYMENT_NOT_FOUND" }),
    ]);
    expect((await env.describe(id))!.deploymentId).toBe(renamedDeployment);
  });

  it("restarts a completed invocation as a new one with the same target and input", async () => {
    const paused = await pausedInvocation(env);
    expect((await admin(env, `/invocations/${paused}/restart-as-new`, {}))[1]).toMatchObject({
      code: "INVOCATION_NOT_COMPLETED",
    });
    sideEffects.length = 0;

    await env.deploy(fixed);
    const first = await env.send("Checkout", "place", 7);
    expect(await env.result(first)).toBe("charged 7 (v2)");
    const [status, body] = await admin(env, `/invocations/${first}/restart-as-new`, {});
    expect(status).toBe(201);
    expect(body.invocationId).toBe(first);
    expect(body.newInvocationId).not.toBe(first);
    expect(await env.result(body.newInvocationId)).toBe("charged 7 (v2)");
    expect(sideEffects).toEqual(["reserve:v2", "reserve:v2"]);
  });

  it("lists failed invocations with --status failed, as `list` prints them", async () => {
    const failing = service({
      name: "Failing",
      handlers: { go: async () => Promise.reject(new TerminalError("declined", { code: 402 })) },
    });
    await env.deploy(failing, fixed);
    const failed = await env.send("Failing", "go");
    const succeeded = await env.send("Checkout", "place", 3);
    await env.settle();
    const ids = async (status: string): Promise<string[]> =>
      (await admin(env, `/invocations?status=${status}`))[1].invocations.map((i: { id: string }) => i.id);
    expect(await ids("failed")).toEqual([failed]);
    expect(await ids("succeeded")).toEqual([succeeded]);
    expect((await ids("completed")).sort()).toEqual([failed, succeeded].sort());
  });
});
