import type { DiscoveryResponse, InvokeResponse } from "../protocol";
import { handlers, object, service } from "../index";
import { invokeRequest, j } from "../test-support/journal-builder";
import { loadMiddy } from "../test-support/load-middy";
import { capstanMiddy, lambdaHandler } from "./index";

const greeter = service({
  name: "Greeter",
  handlers: {
    greet: handlers.handler(
      { retryPolicy: { maxAttempts: 3 }, abortTimeoutMs: 30_000 },
      async (_ctx, name: string) => `hi ${name}`,
    ),
  },
  options: { journalRetentionMs: 86_400_000 },
});
const counter = object({
  name: "Counter",
  handlers: {
    add: async (ctx, n: number) => ((await ctx.get<number>("v")) ?? 0) + n,
    get: handlers.object.shared(async () => 0),
  },
});

function lambdaContext(remainingMs = 60_000) {
  return {
    functionName: "fn",
    awsRequestId: "req-1",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
  };
}

describe("Lambda adapter", () => {
  test("the event is the protocol message: discover and invoke", async () => {
    const handler = lambdaHandler(greeter, counter);
    const context = lambdaContext();

    const discovery = (await handler({ type: "discover", protocolVersion: 1 }, context)) as DiscoveryResponse;
    const response = (await handler(
      invokeRequest({ service: "Greeter", handler: "greet" }, "ann"),
      context,
    )) as InvokeResponse;

    expect(discovery.services).toEqual([
      {
        name: "Greeter",
        kind: "service",
        handlers: [
          {
            name: "greet",
            kind: "stateless",
            options: { retryPolicy: { maxAttempts: 3 }, abortTimeoutMs: 30_000 },
          },
        ],
        options: { journalRetentionMs: 86_400_000 },
      },
      {
        name: "Counter",
        kind: "object",
        handlers: [
          { name: "add", kind: "exclusive" },
          { name: "get", kind: "shared" },
        ],
      },
    ]);
    expect(response.outcome).toEqual({ kind: "completed", value: j("hi ann") });
    expect(context.callbackWaitsForEmptyEventLoop).toBe(false);
  });

  test("a malformed event fails the invocation with the ProtocolError code in the message", async () => {
    const handler = lambdaHandler(greeter);
    await expect(handler({ type: "invoke", protocolVersion: 1 }, lambdaContext())).rejects.toMatchObject({
      name: "ProtocolError",
      code: "PROTOCOL_INVALID_MESSAGE",
      message: expect.stringMatching(/^PROTOCOL_INVALID_MESSAGE: /),
    });
  });

  test("remaining Lambda time drives the suspension decision", async () => {
    const sleepy = service({ name: "Sleepy", handlers: { go: async (ctx) => ctx.sleep(100) } });
    const res = (await lambdaHandler(sleepy)(
      invokeRequest({ service: "Sleepy", handler: "go" }, undefined, [], {
        checkpoint: { url: "http://127.0.0.1:9/never" },
      }),
      lambdaContext(100),
    )) as InvokeResponse;
    expect(res.outcome).toEqual({ kind: "suspended", awaiting: [1] });
  });

  test("middy mode: a real middy chain with a middleware around the Capstan handler", async () => {
    const middy = loadMiddy();
    const calls: string[] = [];
    const audit = {
      before: () => {
        calls.push("before");
      },
      after: (request: { response: unknown }) => {
        calls.push(`after:${(request.response as InvokeResponse).outcome.kind}`);
      },
    };
    const handler = middy(capstanMiddy(greeter)).use(audit);

    const res = (await handler(
      invokeRequest({ service: "Greeter", handler: "greet" }, "bo"),
      lambdaContext() as never,
    )) as InvokeResponse;

    expect(res.outcome).toEqual({ kind: "completed", value: j("hi bo") });
    expect(calls).toEqual(["before", "after:completed"]);
  });
});
