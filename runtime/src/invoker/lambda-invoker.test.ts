import type http from "node:http";
import { InvokeError } from "./invoker";
import type { DeploymentEndpoint } from "./invoker";
import { LambdaInvoker } from "./lambda-invoker";
import { hasFastProperties } from "./test-support/has-fast-properties";
import {
  TestServer,
  discoverRequest,
  discoveryResponse,
  invokeRequest,
  invokeResponse,
  json,
} from "./test-support/fixtures";
import type { Received } from "./test-support/fixtures";

const never = new AbortController().signal;
const ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders:7";
const INVOKE_PATH = `/2015-03-31/functions/${encodeURIComponent(ARN)}/invocations`;

async function failure(promise: Promise<unknown>): Promise<InvokeError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InvokeError);
  return e as InvokeError;
}

/** Errors as the Lambda Invoke REST API sends them: the type in x-amzn-ErrorType, details in the body. */
function lambdaError(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: Record<string, unknown>,
): void {
  json(res, status, body, {
    "x-amzn-ErrorType": `${type}:http://internal.amazon.com/coral/com.amazonaws.awsgambit/`,
    "x-amzn-RequestId": "req-1",
  });
}

describe("LambdaInvoker (real @aws-sdk/client-lambda against a local Invoke API)", () => {
  const server = new TestServer();
  const lambda: DeploymentEndpoint = { kind: "lambda", arn: ARN };
  let invoker: LambdaInvoker;
  let endpoint: string;
  beforeAll(async () => {
    endpoint = await server.start();
    invoker = new LambdaInvoker({ endpoint, maxConcurrency: 8 });
  });
  afterAll(async () => {
    invoker.close();
    await server.stop();
  });

  it("invokes RequestResponse with the protocol message as payload and decodes the answer", async () => {
    server.handler = (req, res) => {
      const message = JSON.parse(req.body.toString()) as { type: string };
      json(res, 200, message.type === "discover" ? discoveryResponse : invokeResponse(), {
        "X-Amz-Executed-Version": "7",
      });
    };
    const request = invokeRequest();

    const response = await invoker.invoke(lambda, request, never);
    const discovery = await invoker.discover(lambda, discoverRequest, never);

    expect(response).toEqual(invokeResponse(request));
    expect(discovery).toEqual(discoveryResponse);
    const call = server.received.at(-2)!;
    expect(call).toMatchObject({ method: "POST", url: INVOKE_PATH });
    expect(call.headers["x-amz-invocation-type"]).toBe("RequestResponse");
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=capstan-local\//);
    expect(JSON.parse(call.body.toString())).toEqual(request);
  });

  it("keeps the SDK client's config in V8's fast mode, which the middleware spreads on every call", async () => {
    server.handler = (_req, res) => json(res, 200, invokeResponse());
    const config = (invoker as unknown as { client: { config: object } }).client.config;

    for (let i = 0; i < 3; i++) await invoker.invoke(lambda, invokeRequest(), never);

    expect(hasFastProperties(config)).toBe(true);
  });

  it("sends unsigned requests only when told the endpoint ignores signatures", async () => {
    server.handler = (_req, res) => json(res, 200, invokeResponse());
    const unsigned = new LambdaInvoker({ endpoint, signRequests: false });
    try {
      await unsigned.invoke(lambda, invokeRequest(), never);
    } finally {
      unsigned.close();
    }
    expect(server.received.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("maps a FunctionError to a retryable INVOKE_FUNCTION_ERROR with the function's message", async () => {
    server.handler = (_req, res) =>
      json(
        res,
        200,
        { errorType: "Runtime.OutOfMemory", errorMessage: "Runtime exited with error: signal: killed" },
        { "X-Amz-Function-Error": "Unhandled" },
      );

    const e = await failure(invoker.invoke(lambda, invokeRequest(), never));

    expect(e).toMatchObject({ code: "INVOKE_FUNCTION_ERROR", retryable: true });
    expect(e.message).toContain("Unhandled");
    expect(e.message).toContain("Runtime.OutOfMemory");
    expect(e.message).toContain("signal: killed");
  });

  it("parses Lambda's API errors into the SDK's exception names and classifies them", async () => {
    const cases: Array<[(res: http.ServerResponse) => void, string, string, boolean]> = [
      [
        (res) =>
          lambdaError(res, 404, "ResourceNotFoundException", {
            Type: "User",
            message: `Function not found: ${ARN}`,
          }),
        "ResourceNotFoundException",
        "INVOKE_NOT_FOUND",
        false,
      ],
      [
        (res) =>
          lambdaError(res, 429, "TooManyRequestsException", {
            Type: "User",
            message: "Rate Exceeded.",
            Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
          }),
        "TooManyRequestsException",
        "INVOKE_THROTTLED",
        true,
      ],
      [
        (res) =>
          lambdaError(res, 413, "RequestTooLargeException", {
            Type: "User",
            message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
          }),
        "RequestTooLargeException",
        "INVOKE_PAYLOAD_TOO_LARGE",
        false,
      ],
      [
        (res) => lambdaError(res, 403, "AccessDeniedException", { Type: "User", Message: "not authorized" }),
        "AccessDeniedException",
        "INVOKE_ACCESS_DENIED",
        false,
      ],
      [
        (res) => lambdaError(res, 500, "ServiceException", { Type: "Service", message: "internal" }),
        "ServiceException",
        "INVOKE_HTTP_STATUS",
        true,
      ],
    ];

    for (const [respond, sdkName, code, retryable] of cases) {
      server.handler = (_req: Received, res) => respond(res);
      const e = await failure(invoker.invoke(lambda, invokeRequest(), never));
      expect({ sdkName: (e.cause as { name: string }).name, code: e.code, retryable: e.retryable }).toEqual({
        sdkName,
        code,
        retryable,
      });
    }
  });

  it("treats a payload that is not the protocol as a terminal INVOKE_BAD_RESPONSE", async () => {
    server.handler = (_req, res) => json(res, 200, { statusCode: 200, body: "hello from a plain handler" });

    const e = await failure(invoker.invoke(lambda, invokeRequest(), never));

    expect(e).toMatchObject({ code: "INVOKE_BAD_RESPONSE", retryable: false });
  });

  it("aborts an invoke on the attempt's signal while Lambda is still running it", async () => {
    const controller = new AbortController();
    // Abort once the request has arrived, as an abort timeout would fire on a slow function.
    server.handler = () => controller.abort(new Error("abort timeout reached"));

    const e = await failure(invoker.invoke(lambda, invokeRequest(), controller.signal));

    expect(e).toMatchObject({ code: "INVOKE_TIMEOUT", retryable: true });
    expect(e.message).toContain("abort timeout reached");
  });

  it("keeps at most maxConcurrency invokes in flight", async () => {
    const limit = 3;
    const total = 10;
    const bounded = new LambdaInvoker({ endpoint, maxConcurrency: limit });
    const held: http.ServerResponse[] = [];
    let arrived = 0;
    server.maxInFlight = 0;
    // Answer the oldest held request only once `limit` are held (or all have arrived): an invoker
    // that ignores its limit would push more than `limit` into the server before any answer.
    server.handler = (_req, res) => {
      arrived++;
      held.push(res);
      if (held.length === limit || arrived === total) {
        setImmediate(() => {
          for (const r of arrived === total ? held.splice(0) : held.splice(0, 1))
            json(r, 200, invokeResponse());
        });
      }
    };

    const results = await Promise.all(
      Array.from({ length: total }, () => bounded.invoke(lambda, invokeRequest(), never)),
    );

    expect(results).toHaveLength(total);
    expect(server.maxInFlight).toBe(limit);
    expect(bounded.load).toEqual({ inFlight: 0, waiting: 0 });
    bounded.close();
  });
});
