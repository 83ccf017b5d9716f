/**
 * Functions that set `perExecutionEnvironmentMaxConcurrency` run as on Lambda Managed Instances: one
 * environment whose worker threads each run several invocations at once. Driven through the real
 * `@aws-sdk/client-lambda` against the local endpoint, with the lab fixture in real worker threads.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetFunctionCommand, InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { type BuiltFunction, buildFunction } from "./function-builder";
import { FunctionRegistry, type PublishConfig } from "./function-registry";
import { MAX_NODEJS_WORKER_COUNT, MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY } from "./lambda-limits";
import { type EndpointUnderTest, startEndpointWithClient } from "./test-support/local-endpoint";

jest.setTimeout(20_000);

let outDir: string;
let registry: FunctionRegistry;
let endpoint: EndpointUnderTest;
let client: LambdaClient;
let lab: BuiltFunction;

/** One worker thread taking 4 invocations, nothing queued: the 5th concurrent one is throttled. */
const SHARED: PublishConfig = {
  perExecutionEnvironmentMaxConcurrency: 4,
  maxQueued: 0,
  timeoutSeconds: 1,
  environment: { AWS_LAMBDA_NODEJS_WORKER_COUNT: "1" },
};

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "capstan-managed-"));
  lab = await buildFunction({
    name: "lab",
    entry: join(__dirname, "test-support/functions/lab/handler.ts"),
    outDir,
  });
  registry = new FunctionRegistry({ maxQueueWaitMs: 5_000 });
  endpoint = await startEndpointWithClient({ registry });
  client = endpoint.client;
});

afterAll(async () => {
  await endpoint?.close();
  await rm(outDir, { recursive: true, force: true });
});

async function invoke(name: string, event: unknown): Promise<Record<string, unknown>> {
  const output = await client.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }),
  );
  return {
    ...(JSON.parse(Buffer.from(output.Payload ?? []).toString("utf8")) as Record<string, unknown>),
    functionError: output.FunctionError,
  };
}

describe("a function on managed instances", () => {
  it("runs up to perExecutionEnvironmentMaxConcurrency invocations at once in one worker, sharing its module state, and throttles one more", async () => {
    const version = await registry.publish("shared", lab, SHARED);
    const results = await Promise.allSettled(
      [0, 1, 2, 3, 4].map(() => invoke("shared", { action: "overlap", ms: 400 })),
    );

    const answers = results.filter((r) => r.status === "fulfilled").map((r) => r.value);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(answers).toHaveLength(4);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(1);
    expect(answers.map((a) => a.peak)).toContain(4);
    expect(answers[0]).toMatchObject({ maxConcurrency: "4" });
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatchObject({
      name: "TooManyRequestsException",
      $metadata: { httpStatusCode: 429 },
    });
    expect(registry.poolFor(version).stats()).toMatchObject({ environments: 1, running: 0, started: 1 });
  });

  it("spreads invocations over AWS_LAMBDA_NODEJS_WORKER_COUNT worker threads before doubling up", async () => {
    await registry.publish("two-workers", lab, {
      perExecutionEnvironmentMaxConcurrency: 8,
      environment: { AWS_LAMBDA_NODEJS_WORKER_COUNT: "2" },
    });
    const answers = await Promise.all(
      [0, 1].map(() => invoke("two-workers", { action: "overlap", ms: 300 })),
    );

    expect(new Set(answers.map((a) => a.threadId)).size).toBe(2);
  });

  it("fails a timed-out invocation alone: the others on its worker finish and the worker stays", async () => {
    await registry.publish("timeouts", lab, SHARED);
    const hung = invoke("timeouts", { action: "hang" });
    const quick = await invoke("timeouts", { action: "overlap", ms: 50 });

    expect(await hung).toMatchObject({ functionError: "Unhandled", errorType: "Sandbox.Timedout" });
    expect(quick.functionError).toBeUndefined();
    const after = await invoke("timeouts", { action: "overlap", ms: 1 });
    expect(after.threadId).toBe(quick.threadId);
  });

  it("fails every invocation on a worker that crashes, then serves the next from a fresh worker", async () => {
    const version = await registry.publish("crashes", lab, { ...SHARED, timeoutSeconds: 10 });
    const sleeping = invoke("crashes", { action: "overlap", ms: 2_000 });
    const before = await invoke("crashes", { action: "overlap", ms: 1 });
    const exited = await invoke("crashes", { action: "exit" });

    expect(exited).toMatchObject({ functionError: "Unhandled", errorType: "Runtime.ExitError" });
    expect(await sleeping).toMatchObject({ functionError: "Unhandled", errorType: "Runtime.ExitError" });
    const after = await invoke("crashes", { action: "overlap", ms: 1 });
    expect(after.functionError).toBeUndefined();
    expect(after.threadId).not.toBe(before.threadId);
    expect(registry.poolFor(version).stats()).toMatchObject({ started: 2, running: 0 });
  });

  it("serves a request queued behind a full worker from a fresh one when that worker crashes", async () => {
    await registry.publish("queued", lab, {
      ...SHARED,
      perExecutionEnvironmentMaxConcurrency: 2,
      maxQueued: 1,
      timeoutSeconds: 10,
    });
    const sleeping = invoke("queued", { action: "overlap", ms: 2_000 });
    const exiting = invoke("queued", { action: "exit", ms: 300 });
    const queued = invoke("queued", { action: "overlap", ms: 1 });

    expect(await exiting).toMatchObject({ errorType: "Runtime.ExitError" });
    expect(await sleeping).toMatchObject({ errorType: "Runtime.ExitError" });
    const served = await queued;
    expect(served.functionError).toBeUndefined();
    expect(served.peak).toBe(1);
  });

  it("prefixes each log line with its own invocation's request id", async () => {
    await registry.publish("logs", lab, SHARED);
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...chunk.toString().split("\n"));
      return true;
    });
    try {
      const outputs = await Promise.all(
        [0, 1, 2].map(() =>
          client.send(
            new InvokeCommand({
              FunctionName: "logs",
              Payload: Buffer.from(JSON.stringify({ action: "overlap", ms: 200 })),
            }),
          ),
        ),
      );
      const requestIds = outputs.map((o) => o.$metadata.requestId!);
      await waitFor(() => lines.filter((l) => l.includes("overlap ended")).length === 3);
      for (const id of requestIds) {
        const own = lines.filter(
          (l) => l.includes(`overlap started ${id}`) || l.includes(`overlap ended ${id}`),
        );
        expect(own).toHaveLength(2);
        for (const line of own) expect(line.split("\t")[1]).toBe(id);
      }
    } finally {
      write.mockRestore();
    }
  });

  it("reports its capacity provider configuration in GetFunction", async () => {
    await registry.publish("described", lab, SHARED);
    const fn = await client.send(new GetFunctionCommand({ FunctionName: "described" }));

    expect(
      fn.Configuration?.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig,
    ).toMatchObject({
      CapacityProviderArn: expect.stringMatching(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:capacity-provider:/),
      PerExecutionEnvironmentMaxConcurrency: 4,
    });
  });

  it("bounds the setting and the worker count at their limits", async () => {
    const at = await registry.publish("limits", lab, {
      perExecutionEnvironmentMaxConcurrency: MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY,
      environment: { AWS_LAMBDA_NODEJS_WORKER_COUNT: String(MAX_NODEJS_WORKER_COUNT) },
    });
    expect(at).toMatchObject({
      maxWorkers: MAX_NODEJS_WORKER_COUNT,
      perWorkerConcurrency: MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY / MAX_NODEJS_WORKER_COUNT,
      maxConcurrency: MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY,
    });
    await expect(
      registry.publish("limits", lab, {
        perExecutionEnvironmentMaxConcurrency: MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY + 1,
      }),
    ).rejects.toThrow(/perExecutionEnvironmentMaxConcurrency must be an integer from 1 to 1024/);
    await expect(
      registry.publish("limits", lab, {
        perExecutionEnvironmentMaxConcurrency: 4,
        environment: { AWS_LAMBDA_NODEJS_WORKER_COUNT: String(MAX_NODEJS_WORKER_COUNT + 1) },
      }),
    ).rejects.toThrow(/AWS_LAMBDA_NODEJS_WORKER_COUNT must be an integer from 1 to 64/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
