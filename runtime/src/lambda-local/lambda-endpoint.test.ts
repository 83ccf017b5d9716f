import { mkdtemp, rm } from "node:fs/promises";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetFunctionCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
} from "@aws-sdk/client-lambda";
import { type BuiltFunction, buildFunction } from "./function-builder";
import { discoverFunctions } from "./function-discovery";
import { FunctionRegistry } from "./function-registry";
import type { LocalLambda } from "./lambda-endpoint";
import {
  HANDLER_THREAD_NICE,
  MAX_ASYNC_REQUEST_PAYLOAD_BYTES,
  MAX_SYNC_REQUEST_PAYLOAD_BYTES,
  MAX_SYNC_RESPONSE_PAYLOAD_BYTES,
} from "./lambda-limits";
import { type EndpointUnderTest, startEndpointWithClient } from "./test-support/local-endpoint";

jest.setTimeout(20_000);

const FIXTURES = join(__dirname, "test-support", "functions");

let outDir: string;
let registry: FunctionRegistry;
let endpoint: EndpointUnderTest;
let lambda: LocalLambda;
let client: LambdaClient;
let lab: BuiltFunction;
let versionOne: BuiltFunction;
const asyncFailures: string[] = [];

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "capstan-lambda-local-"));
  const found = await discoverFunctions(FIXTURES);
  const built = new Map<string, BuiltFunction>();
  for (const fn of found) built.set(fn.name, await buildFunction({ name: fn.name, entry: fn.entry, outDir }));
  lab = built.get("lab")!;
  versionOne = built.get("version-one")!;
  registry = new FunctionRegistry({ maxQueueWaitMs: 5_000 });
  await registry.publish("lab", lab, found.find((f) => f.name === "lab")!.config);
  await registry.publish("versioned", versionOne);
  await registry.publish("versioned", built.get("version-two")!);
  await registry.publish("narrow", lab, { maxWorkers: 1, maxQueued: 1, timeoutSeconds: 5 });
  endpoint = await startEndpointWithClient({
    registry,
    onAsyncFailure: (name, requestId, detail) => asyncFailures.push(`${name} ${requestId} ${detail}`),
  });
  ({ lambda, client } = endpoint);
});

afterAll(async () => {
  await endpoint?.close();
  await rm(outDir, { recursive: true, force: true });
});

function invoke(FunctionName: string, payload: unknown, extra: Partial<InvokeCommand["input"]> = {}) {
  const Payload = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload));
  return client.send(new InvokeCommand({ FunctionName, Payload, ...extra }));
}

/** What the fixtures answer with: the lab's echo, a function error, or a version marker. */
interface FixturePayload {
  readonly event: unknown;
  readonly threadId: number;
  readonly priority: number;
  readonly env: unknown;
  readonly remainingBefore: number;
  readonly remainingAfter: number;
  readonly context: { readonly awsRequestId: string; readonly invokedFunctionArn: string };
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
  readonly stackTrace: readonly string[];
}

function payloadOf(output: InvokeCommandOutput): FixturePayload {
  return JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString("utf8")) as FixturePayload;
}

async function invokeError(
  promise: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error("expected the invocation to be refused");
}

describe("Invoke RequestResponse", () => {
  it("round-trips the payload and gives the handler a Lambda context and its own environment", async () => {
    const event = { action: "echo", order: { id: 7, items: ["a", "b"] }, unicode: "é✓" };

    const output = await invoke("lab:1", event);

    const body = payloadOf(output);
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe("1");
    expect(body.event).toEqual(event);
    expect(body.context).toEqual({
      awsRequestId: output.$metadata.requestId,
      functionName: "lab",
      functionVersion: "1",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:lab:1",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/lab",
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[1\][0-9a-f]{32}$/),
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(body.context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.remainingBefore).toBeGreaterThan(0);
    expect(body.remainingBefore).toBeLessThanOrEqual(1_000);
    expect(body.remainingAfter).toBeLessThan(body.remainingBefore);
    expect(body.env).toEqual({ GREETING: "hello from function.json", AWS_LAMBDA_FUNCTION_NAME: "lab" });
  });

  it("runs the handler's thread at HANDLER_THREAD_NICE and leaves the endpoint's own thread alone", async () => {
    const before = getPriority();

    const body = payloadOf(await invoke("lab", {}));

    expect(body.priority).toBe(Math.max(before, HANDLER_THREAD_NICE));
    expect(getPriority()).toBe(before);
  });

  it("accepts name, name:$LATEST, ?Qualifier= and full ARNs, reporting the version as Lambda does", async () => {
    const unqualified = await invoke("lab", {});
    const latest = await invoke("lab:$LATEST", {});
    const byQuery = await invoke("lab", {}, { Qualifier: "1" });
    const byArn = await invoke("arn:aws:lambda:us-east-1:000000000000:function:lab:1", {});

    expect(unqualified.ExecutedVersion).toBe("$LATEST");
    expect(payloadOf(unqualified).context.invokedFunctionArn).toBe(
      "arn:aws:lambda:us-east-1:000000000000:function:lab",
    );
    expect(latest.ExecutedVersion).toBe("$LATEST");
    expect(byQuery.ExecutedVersion).toBe("1");
    expect(byArn.ExecutedVersion).toBe("1");
  });

  it("reports a thrown error as an Unhandled function error with its type, message and trace", async () => {
    const output = await invoke("lab", { action: "throw" });

    const body = payloadOf(output);
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe("Unhandled");
    expect(body.errorType).toBe("LabError");
    expect(body.errorMessage).toBe("boom from the lab");
    expect(body.trace[0]).toBe("LabError: boom from the lab");
    expect(body.stackTrace).toEqual(body.trace);
  });

  it("times a hung handler out after its configured timeout and replaces the environment", async () => {
    const pool = registry.poolFor(registry.resolve("lab", "1")!);
    const before = payloadOf(await invoke("lab", {})).threadId;
    const startedBefore = pool.stats().started;

    const startedAt = Date.now();
    const output = await invoke("lab", { action: "hang" });
    const elapsedMs = Date.now() - startedAt;
    const after = payloadOf(await invoke("lab", {})).threadId;

    expect(output.FunctionError).toBe("Unhandled");
    expect(payloadOf(output)).toMatchObject({
      errorType: "Sandbox.Timedout",
      errorMessage: expect.stringMatching(
        /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/,
      ),
    });
    expect(elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(after).not.toBe(before);
    expect(pool.stats()).toMatchObject({ started: startedBefore + 1, environments: 1, busy: 0 });
  });

  it("turns process.exit and uncaught exceptions into function errors, and the next invoke still works", async () => {
    const exited = await invoke("lab", { action: "exit" });
    const afterExit = await invoke("lab", { action: "echo" });
    const uncaught = await invoke("lab", { action: "uncaught" });
    const afterUncaught = await invoke("lab", { action: "echo", again: true });

    expect(exited.FunctionError).toBe("Unhandled");
    expect(payloadOf(exited)).toMatchObject({
      errorType: "Runtime.ExitError",
      errorMessage: expect.stringContaining("Runtime exited with error: exit status 3"),
    });
    expect(afterExit.FunctionError).toBeUndefined();
    expect(uncaught.FunctionError).toBe("Unhandled");
    expect(payloadOf(uncaught)).toMatchObject({
      errorType: "RangeError",
      errorMessage: "thrown outside the handler's promise",
    });
    expect(payloadOf(afterUncaught).event).toEqual({ action: "echo", again: true });
  });
});

describe("Invoke errors the SDK decodes", () => {
  it("answers unknown functions and versions with ResourceNotFoundException", async () => {
    const unknownFunction = await invokeError(invoke("no-such-function", {}));
    const unknownVersion = await invokeError(invoke("lab:99", {}));

    expect(unknownFunction).toMatchObject({ name: "ResourceNotFoundException", status: 404 });
    expect(unknownFunction.message).toContain("function:no-such-function");
    expect(unknownVersion).toMatchObject({ name: "ResourceNotFoundException", status: 404 });
  });

  it("accepts a payload of exactly 6 MB and refuses one byte more with 413 RequestEntityTooLargeException", async () => {
    const atLimit = JSON.stringify("a".repeat(MAX_SYNC_REQUEST_PAYLOAD_BYTES - 2));
    const overLimit = JSON.stringify("a".repeat(MAX_SYNC_REQUEST_PAYLOAD_BYTES - 1));

    const accepted = await invoke("lab", atLimit);
    const refused = await invokeError(invoke("lab", overLimit));

    expect(Buffer.byteLength(atLimit)).toBe(MAX_SYNC_REQUEST_PAYLOAD_BYTES);
    expect(payloadOf(accepted)).toEqual({ length: MAX_SYNC_REQUEST_PAYLOAD_BYTES - 2 });
    expect(refused).toMatchObject({ name: "RequestEntityTooLargeException", status: 413 });
    expect(refused.message).toBe(
      "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    );
  });

  it("fails a response over 6 MB with Function.ResponseSizeTooLarge and lets one at the limit through", async () => {
    const atLimit = await invoke("lab", { action: "big", bytes: MAX_SYNC_RESPONSE_PAYLOAD_BYTES - 2 });
    const overLimit = await invoke("lab", { action: "big", bytes: MAX_SYNC_RESPONSE_PAYLOAD_BYTES - 1 });

    expect(atLimit.FunctionError).toBeUndefined();
    expect(atLimit.Payload?.byteLength).toBe(MAX_SYNC_RESPONSE_PAYLOAD_BYTES);
    expect(overLimit.FunctionError).toBe("Unhandled");
    expect(payloadOf(overLimit).errorType).toBe("Function.ResponseSizeTooLarge");
  });

  it("refuses a body that is not JSON with InvalidRequestContentException", async () => {
    const refused = await invokeError(invoke("lab", "{not json"));

    expect(refused).toMatchObject({ name: "InvalidRequestContentException", status: 400 });
  });

  it("throttles with TooManyRequestsException once the environments and the queue are full", async () => {
    // narrow: 1 environment + 1 queued request; the third concurrent request has nowhere to go.
    const results = await Promise.allSettled(
      [0, 1, 2].map(() => invoke("narrow", { action: "sleep", ms: 500 })),
    );

    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    expect(fulfilled).toHaveLength(2);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({
      name: "TooManyRequestsException",
      Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
      retryAfterSeconds: "1",
      $metadata: { httpStatusCode: 429 },
    });
  });
});

describe("Invocation types", () => {
  it("answers Event with 202 at once and runs the handler asynchronously", async () => {
    const output = await invoke("lab", { action: "throw" }, { InvocationType: "Event" });

    expect(output.StatusCode).toBe(202);
    expect(output.Payload?.byteLength ?? 0).toBe(0);
    await waitFor(() => asyncFailures.some((f) => f.includes(output.$metadata.requestId!)));
    expect(asyncFailures.find((f) => f.includes(output.$metadata.requestId!))).toContain(
      "LabError: boom from the lab",
    );
  });

  it("limits Event payloads to 1 MB and answers DryRun with 204 without running anything", async () => {
    const tooBig = JSON.stringify("a".repeat(MAX_ASYNC_REQUEST_PAYLOAD_BYTES - 1));

    const refused = await invokeError(invoke("lab", tooBig, { InvocationType: "Event" }));
    const dryRun = await invoke("lab", { action: "throw" }, { InvocationType: "DryRun" });

    expect(refused).toMatchObject({ name: "RequestEntityTooLargeException", status: 413 });
    expect(dryRun.StatusCode).toBe(204);
  });
});

describe("versions and function metadata", () => {
  it("serves each published version its own code, $LATEST the newest", async () => {
    const one = await invoke("versioned:1", {});
    const two = await invoke("versioned:2", {});
    const latest = await invoke("versioned", {});
    const republished = await registry.publish("versioned", versionOne);

    expect(payloadOf(one)).toEqual({ code: "one" });
    expect(payloadOf(two)).toEqual({ code: "two" });
    expect(payloadOf(latest)).toEqual({ code: "two" });
    expect(republished.version).toBe("3");
    expect(payloadOf(await invoke("versioned", {}))).toEqual({ code: "one" });
    expect(payloadOf(await invoke("versioned:2", {}))).toEqual({ code: "two" });
  });

  it("lets in-flight invocations of an old version finish on its own workers after a new publish", async () => {
    await registry.publish("watched", lab, { timeoutSeconds: 5 });
    const inFlight = invoke("watched", { action: "sleep", ms: 400 });
    await waitFor(() => registry.poolFor(registry.resolve("watched", "1")!).stats().busy === 1);

    const v2 = await registry.publish("watched", versionOne);
    const afterPublish = await invoke("watched", {});
    const finished = await inFlight;

    expect(v2.version).toBe("2");
    expect(payloadOf(afterPublish)).toEqual({ code: "one" });
    expect(finished.FunctionError).toBeUndefined();
    expect(payloadOf(finished)).toEqual({ slept: 400 });
  });

  it("describes functions through GetFunction, ListFunctions and ListVersionsByFunction", async () => {
    const get = await client.send(new GetFunctionCommand({ FunctionName: "versioned", Qualifier: "1" }));
    const list = await client.send(new ListFunctionsCommand({}));
    const versions = await client.send(new ListVersionsByFunctionCommand({ FunctionName: "lab" }));
    const missing = await invokeError(client.send(new GetFunctionCommand({ FunctionName: "nope" })));

    expect(get.Configuration).toMatchObject({
      FunctionName: "versioned",
      Version: "1",
      CodeSha256: versionOne.codeSha256,
      Timeout: 30,
      MemorySize: 256,
      FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:versioned:1",
    });
    expect(list.Functions?.map((f) => [f.FunctionName, f.Version, f.Timeout])).toEqual([
      ["lab", "$LATEST", 1],
      ["narrow", "$LATEST", 5],
      ["versioned", "$LATEST", 30],
      ["watched", "$LATEST", 30],
    ]);
    expect(versions.Versions?.map((v) => v.Version)).toEqual(["$LATEST", "1"]);
    expect(missing).toMatchObject({ name: "ResourceNotFoundException", status: 404 });
  });

  it("publishes identical code and settings as the existing version, like PublishVersion", async () => {
    const again = await registry.publish("lab", lab, {
      timeoutSeconds: 1,
      memoryMb: 128,
      environment: { GREETING: "hello from function.json" },
    });

    expect(again.version).toBe("1");
    await expect(registry.publish("lab", { ...lab, codeSha256: "tampered" })).rejects.toThrow(
      /changed since it was built/,
    );
  });

  it("answers unknown routes with a JSON UnknownOperationException", async () => {
    const response = await fetch(`${lambda.url}/2015-03-31/functions/lab/aliases`);

    expect(response.status).toBe(404);
    expect(response.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    expect(await response.json()).toMatchObject({ Type: "User" });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
