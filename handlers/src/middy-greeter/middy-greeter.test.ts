import path from "node:path";
import type { DiscoveryResponse, InvokeResponse } from "@capstan/sdk/protocol";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { expectGoldenJournal } from "../shared/test-support/golden-journal";
import { handler } from "./handler";
import { middyGreeter } from "./middy-greeter";

jest.mock("@middy/core", () =>
  jest.requireActual<{ loadMiddyModule(): unknown }>("../shared/test-support/load-middy").loadMiddyModule(),
);

/** What Lambda passes as the context, with a fixed deadline. */
function lambdaContext(remainingMs = 30_000) {
  return {
    functionName: "middy-greeter",
    functionVersion: "1",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:middy-greeter:1",
    memoryLimitInMB: "256",
    awsRequestId: "00000000-0000-4000-8000-000000000000",
    logGroupName: "/aws/lambda/middy-greeter",
    logStreamName: "2025/01/01/[1]abcdef",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The JSON lines the middleware wrote to stdout during `act`. */
async function logLines(act: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    await act();
    return log.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
  } finally {
    log.mockRestore();
  }
}

describe("middy-greeter handler.ts (the exported Lambda handler)", () => {
  test("answers discovery through the middy chain and the middleware logs it", async () => {
    let response: unknown;

    const lines = await logLines(async () => {
      response = await handler({ type: "discover", protocolVersion: 1 }, lambdaContext());
    });

    expect((response as DiscoveryResponse).services).toEqual([
      { name: "MiddyGreeter", kind: "service", handlers: [{ name: "greet", kind: "stateless" }] },
    ]);
    expect(lines).toEqual([
      {
        middleware: "capstan-invocation-log",
        messageType: "discover",
        outcome: "discovery",
        durationMs: expect.any(Number),
        remainingTimeMs: 30_000,
      },
    ]);
  });

  test("replays an invoke whose steps are recorded and the middleware logs the outcome", async () => {
    const request = {
      type: "invoke",
      protocolVersion: 1,
      invocationId: "inv_1_middytest0001",
      target: { service: "MiddyGreeter", handler: "greet" },
      attempt: 2,
      attemptToken: "token-2",
      headers: {},
      journal: [
        { index: 0, kind: "input", value: '"Ada"' },
        {
          index: 1,
          kind: "run",
          name: "compose-greeting",
          result: { kind: "value", value: '"Hello from middy, Ada!"' },
        },
        {
          index: 2,
          kind: "sleep",
          durationMs: 100,
          wakeUpAtMs: 1_700_000_000_100,
          result: { kind: "empty" },
        },
      ],
      retry: { attemptsSinceLastEntry: 0 },
      nowMs: 1_700_000_000_200,
    };
    let response: unknown;

    const lines = await logLines(async () => {
      response = await handler(request, lambdaContext());
    });

    expect((response as InvokeResponse).outcome).toEqual({
      kind: "completed",
      value: '"Hello from middy, Ada!"',
    });
    expect(lines).toEqual([
      expect.objectContaining({
        messageType: "invoke",
        target: "MiddyGreeter/greet",
        invocationId: "inv_1_middytest0001",
        attempt: 2,
        outcome: "completed",
      }),
    ]);
  });

  test("a malformed event is logged as an error and still fails the invocation", async () => {
    let error: unknown;

    const lines = await logLines(async () => {
      error = await handler({ type: "invoke", protocolVersion: 1 }, lambdaContext()).catch((e: unknown) => e);
    });

    expect(error).toMatchObject({ name: "ProtocolError", code: "PROTOCOL_INVALID_MESSAGE" });
    expect(lines).toEqual([expect.objectContaining({ messageType: "invoke", outcome: "error" })]);
  });
});

describe.each([false, true])("MiddyGreeter in the runtime (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [middyGreeter], alwaysReplay });
  });
  afterAll(async () => env.close());

  test("greet returns the greeting with the same journal as ever", async () => {
    const id = await env.send("MiddyGreeter", "greet", "Ada");

    await expect(env.result(id)).resolves.toBe("Hello from middy, Ada!");
    expectGoldenJournal(await env.journal(id), path.join(__dirname, "fixtures/greet.journal.json"));
  });
});
