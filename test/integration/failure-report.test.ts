/**
 * What an operator sees when a step throws: one log line per failed attempt (error, stack, failed
 * step, attempt, next retry), `describe` with the same details, and the counters to alert on.
 */
import { service } from "@capstan/sdk";
import { jsonLog, Metrics, noopTracing, Telemetry } from "@capstan/runtime";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

let payFailures = 1;

const payments = service({
  name: "Payments",
  handlers: {
    pay: async (ctx, amount: number) => {
      await ctx.run("validate", () => amount > 0);
      return ctx.run("charge", function chargeCard() {
        if (payFailures-- > 0) throw new Error("card network unreachable");
        return `charged ${amount}`;
      });
    },
  },
});

const broken = service({
  name: "Broken",
  options: { retryPolicy: { maxAttempts: 2, initialIntervalMs: 1_000 } },
  handlers: {
    always: async (ctx) => {
      await ctx.run("explode", () => {
        throw new TypeError("undefined is not a function");
      });
    },
  },
});

let env: TestEnvironment;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const log = jsonLog("info", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const telemetry = new Telemetry(noopTracing, log, new Metrics(), () => env.clock!.nowMs());
  env = await startTestEnvironment({ services: [payments, broken], time: "manual", telemetry });
});

afterAll(async () => env.close());

test("a failing step logs its error, stack, step, attempt and next retry; describe shows the same", async () => {
  const id = await env.send("Payments", "pay", 42);
  await env.settle();

  const detail = await env.describe(id);
  expect(detail).toMatchObject({
    status: "backing-off",
    attempt: 1,
    lastFailure: {
      attempt: 1,
      message: "card network unreachable",
      entry: { index: 2, kind: "run", name: "charge" },
    },
  });
  const failure = detail!.lastFailure!;
  expect(failure.stack).toContain("chargeCard");
  expect(failure.nextRetryAtMs).toBeGreaterThan(failure.atMs);
  expect(detail!.traceId).toMatch(/^[0-9a-f]{32}$/);

  const line = lines.find((l) => l.invocationId === id && l.level === "warn")!;
  expect(line).toMatchObject({
    service: "Payments",
    handler: "pay",
    attempt: 1,
    traceId: detail!.traceId,
    entry: 'run "charge" (entry 2)',
    nextRetryAt: new Date(failure.nextRetryAtMs!).toISOString(),
  });
  expect(String(line.message)).toContain("card network unreachable");
  expect(String(line.stack)).toContain("chargeCard");

  // The retry's timer: counted from the partition's state, and held in the timer service's window.
  const waiting = await env.runtime.metrics();
  // Every series names the node that answered (one scrape target per node of a cluster).
  const node = `node_id="${env.runtime.nodeId}"`;
  expect(waiting).toContain(`\ncapstan_timers{${node}} 1\n`);
  expect(waiting).toContain(`\ncapstan_timers_in_memory{${node}} 1\n`);
  await env.advanceTime(failure.nextRetryAtMs! - env.clock!.nowMs());
  expect(await env.result(id)).toBe("charged 42");
  const metrics = await env.runtime.metrics();
  expect(metrics).toContain(
    `capstan_attempt_failures_total{service="Payments",handler="pay",cause="HANDLER_ERROR",${node}} 1`,
  );
  expect(metrics).toContain(`capstan_retries_total{service="Payments",handler="pay",${node}} 1`);
  expect(metrics).toContain(
    `capstan_invocation_duration_seconds_count{service="Payments",handler="pay",${node}} 1`,
  );
  expect(metrics).toContain(
    `capstan_invocation_duration_seconds_bucket{service="Payments",handler="pay",${node},le="+Inf"} 1`,
  );
  expect(metrics).toMatch(/capstan_log_commit_duration_seconds_count\{node_id="[^"]+"\} [1-9]/);
  // No series without it.
  const series = metrics.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  expect(series.filter((l) => !l.includes(node))).toEqual([]);
});

test("exhausted retries pause the invocation: logged with how to resume, counted, no next retry", async () => {
  const id = await env.send("Broken", "always");
  await env.settle();
  await env.advanceTime(1_000);

  const detail = await env.describe(id);
  expect(detail).toMatchObject({ status: "paused", attempt: 2, lastFailure: { attempt: 2 } });
  expect(detail!.lastFailure!.nextRetryAtMs).toBeUndefined();
  const last = lines.filter((l) => l.invocationId === id).at(-1)!;
  expect(String(last.message)).toContain(`capstan invocations resume ${id}`);
  expect(last.nextRetryAt).toBeUndefined();
  expect(await env.runtime.metrics()).toContain(
    `capstan_pauses_total{service="Broken",handler="always",node_id="${env.runtime.nodeId}"} 1`,
  );
});
