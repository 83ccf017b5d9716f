import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { toFunctionConfiguration } from "./function-configuration";
import { LATEST_QUALIFIER, functionArn, parseFunctionRef } from "./function-name";
import type { FunctionRegistry, FunctionVersion } from "./function-registry";
import { LambdaApiError, isLambdaApiError } from "./lambda-errors";
import { newRequestId, readBody, sendApiError, sendJson } from "./lambda-http";
import {
  MAX_ASYNC_REQUEST_PAYLOAD_BYTES,
  MAX_SYNC_REQUEST_PAYLOAD_BYTES,
  MAX_SYNC_RESPONSE_PAYLOAD_BYTES,
} from "./lambda-limits";
import type { InvokeOutcome } from "./worker-pool";
import { listenUrl } from "../server/listen-url";

export interface LocalLambdaOptions {
  /** Defaults to 127.0.0.1: the endpoint accepts any credentials, so it must not face a network. */
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly registry: FunctionRegistry;
  /** Where failures of Event (asynchronous) invocations are reported; defaults to console.error. */
  readonly onAsyncFailure?: (functionName: string, requestId: string, detail: string) => void;
}

export interface LocalLambda {
  /** e.g. "http://127.0.0.1:43123": pass as the LambdaClient `endpoint`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests and closes connections. Workers belong to the registry: close it too. */
  close(): Promise<void>;
}

const API_PREFIX = "/2015-03-31/functions";
const INVOCATION_TYPES = ["RequestResponse", "Event", "DryRun"] as const;
type InvocationType = (typeof INVOCATION_TYPES)[number];
const MAX_LIST_ITEMS = 10_000;
const DEFAULT_LIST_ITEMS = 50;

/**
 * Serves the part of the Lambda REST API that Capstan's runtime and CLI use, over plain HTTP on
 * localhost, so `@aws-sdk/client-lambda` runs unchanged with `endpoint` set to `url`:
 * Invoke (RequestResponse, Event, DryRun), GetFunction, GetFunctionConfiguration, ListFunctions and
 * ListVersionsByFunction. SigV4 signatures are accepted without verification (local only).
 *
 * @example
 * const lambda = await startLocalLambda({ registry });
 * const client = new LambdaClient({ region: "us-east-1", endpoint: lambda.url, credentials: { accessKeyId: "x", secretAccessKey: "x" } });
 * await client.send(new InvokeCommand({ FunctionName: "checkout:1", Payload: Buffer.from("{}") }));
 * // → StatusCode 200, ExecutedVersion "1", Payload = the handler's JSON result
 */
export async function startLocalLambda(options: LocalLambdaOptions): Promise<LocalLambda> {
  const { registry } = options;
  const onAsyncFailure =
    options.onAsyncFailure ??
    ((name: string, requestId: string, detail: string) =>
      console.error(`[lambda-local] Event invocation ${requestId} of ${name} failed: ${detail}`));

  const server: Server = createServer((req, res) => {
    const requestId = newRequestId();
    route(req, res, requestId).catch((error: unknown) => {
      const apiError = isLambdaApiError(error)
        ? error
        : new LambdaApiError(
            "ServiceException",
            "Internal error in the local Lambda endpoint",
            {},
            { cause: error },
          );
      if (!res.destroyed) sendApiError(res, apiError, requestId);
    });
  });
  // A bad socket or parser error must never take the process down.
  server.on("clientError", (_error, socket) => socket.destroy());

  async function route(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const segments = url.pathname.startsWith(API_PREFIX)
      ? url.pathname.slice(API_PREFIX.length).split("/").filter(Boolean).map(decodeURIComponent)
      : undefined;
    const [functionName, action, ...rest] = segments ?? [];
    const qualifier = url.searchParams.get("Qualifier") ?? undefined;
    if (segments !== undefined && rest.length === 0) {
      if (req.method === "POST" && functionName !== undefined && action === "invocations") {
        return invoke(req, res, requestId, functionName, qualifier);
      }
      if (req.method === "GET" && functionName === undefined) return listFunctions(res, requestId, url);
      if (req.method === "GET" && functionName !== undefined && action === undefined) {
        return getFunction(res, requestId, functionName, qualifier, true);
      }
      if (req.method === "GET" && functionName !== undefined && action === "configuration") {
        return getFunction(res, requestId, functionName, qualifier, false);
      }
      if (req.method === "GET" && functionName !== undefined && action === "versions") {
        return listVersions(res, requestId, functionName);
      }
    }
    req.resume();
    throw new LambdaApiError(
      "UnknownOperationException",
      `Unknown operation ${req.method ?? ""} ${url.pathname}`,
    );
  }

  function find(functionName: string, qualifier: string | undefined): FunctionVersion {
    const ref = parseFunctionRef(functionName, qualifier);
    const version = registry.resolve(ref.name, ref.qualifier);
    if (version === undefined) {
      throw new LambdaApiError(
        "ResourceNotFoundException",
        `Function not found: ${functionArn(ref.name, ref.qualifier)}`,
      );
    }
    return version;
  }

  async function invoke(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    functionName: string,
    qualifier: string | undefined,
  ): Promise<void> {
    const invocationType = parseInvocationType(req.headers["x-amz-invocation-type"]);
    const limitBytes =
      invocationType === "Event" ? MAX_ASYNC_REQUEST_PAYLOAD_BYTES : MAX_SYNC_REQUEST_PAYLOAD_BYTES;
    const body = await readBody(req, limitBytes);
    if (body.kind === "too-large") {
      throw new LambdaApiError(
        "RequestEntityTooLargeException",
        invocationType === "Event"
          ? `${body.sizeBytes} byte payload is too large for the Event invocation type (limit ${limitBytes} bytes)`
          : `Request must be smaller than ${limitBytes} bytes for the InvokeFunction operation`,
      );
    }
    const ref = parseFunctionRef(functionName, qualifier);
    const version = find(functionName, qualifier);
    const payloadJson = body.body.byteLength === 0 ? "{}" : body.body.toString("utf8");
    try {
      JSON.parse(payloadJson);
    } catch (e) {
      throw new LambdaApiError(
        "InvalidRequestContentException",
        `Could not parse request body into json: ${(e as Error).message}`,
      );
    }
    const clientContext = parseClientContext(req.headers["x-amz-client-context"]);
    // Like Lambda: `$LATEST` and unqualified calls report "$LATEST", a pinned call its number.
    const executedVersion = ref.qualifier === undefined ? LATEST_QUALIFIER : ref.qualifier;
    const request = {
      requestId,
      payloadJson,
      invokedFunctionArn: functionArn(version.name, ref.qualifier),
      functionVersion: executedVersion,
      clientContext,
    };
    const headers = { "x-amzn-RequestId": requestId, "X-Amz-Executed-Version": executedVersion };

    switch (invocationType) {
      case "DryRun":
        res.writeHead(204, headers).end();
        return;
      case "Event":
        res.writeHead(202, { ...headers, "Content-Length": "0" }).end();
        void registry
          .poolFor(version)
          .invoke(request)
          .then((outcome) => {
            if (outcome.kind !== "success") onAsyncFailure(version.name, requestId, describe(outcome));
          });
        return;
      case "RequestResponse":
        return reply(res, await registry.poolFor(version).invoke(request), headers);
      default: {
        const unexpected: never = invocationType;
        throw new Error(`unhandled invocation type ${String(unexpected)}`);
      }
    }
  }

  function reply(res: ServerResponse, outcome: InvokeOutcome, headers: Record<string, string>): void {
    const requestId = headers["x-amzn-RequestId"] ?? "";
    switch (outcome.kind) {
      case "success": {
        if (Buffer.byteLength(outcome.payloadJson) > MAX_SYNC_RESPONSE_PAYLOAD_BYTES) {
          const error = {
            errorType: "Function.ResponseSizeTooLarge",
            errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_RESPONSE_PAYLOAD_BYTES} bytes).`,
          };
          sendJson(res, 200, JSON.stringify(error), { ...headers, "X-Amz-Function-Error": "Unhandled" });
          return;
        }
        sendJson(res, 200, outcome.payloadJson, headers);
        return;
      }
      case "function-error":
        sendJson(res, 200, JSON.stringify(outcome.error), {
          ...headers,
          "X-Amz-Function-Error": "Unhandled",
        });
        return;
      case "throttled":
        sendApiError(
          res,
          new LambdaApiError("TooManyRequestsException", "Rate Exceeded.", { Reason: outcome.reason }),
          requestId,
        );
        return;
      case "shut-down":
        sendApiError(
          res,
          new LambdaApiError("ServiceException", "The local Lambda endpoint is shutting down"),
          requestId,
        );
        return;
      default: {
        const unexpected: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(unexpected)}`);
      }
    }
  }

  async function getFunction(
    res: ServerResponse,
    requestId: string,
    functionName: string,
    qualifier: string | undefined,
    withCode: boolean,
  ): Promise<void> {
    const ref = parseFunctionRef(functionName, qualifier);
    const version = find(functionName, qualifier);
    const configuration = toFunctionConfiguration(
      version,
      ref.qualifier === undefined || ref.qualifier === LATEST_QUALIFIER,
    );
    const body = withCode
      ? {
          Configuration: configuration,
          Code: { RepositoryType: "Local", Location: `file://${version.bundlePath}` },
        }
      : configuration;
    sendJson(res, 200, JSON.stringify(body), { "x-amzn-RequestId": requestId });
  }

  async function listFunctions(res: ServerResponse, requestId: string, url: URL): Promise<void> {
    const all = registry.latest().map((v) => toFunctionConfiguration(v, true));
    sendJson(res, 200, JSON.stringify(paginate("Functions", all, url)), { "x-amzn-RequestId": requestId });
  }

  async function listVersions(res: ServerResponse, requestId: string, functionName: string): Promise<void> {
    const newest = find(functionName, undefined);
    const versions = registry.versions(newest.name);
    const body = {
      Versions: [
        toFunctionConfiguration(newest, true),
        ...versions.map((v) => toFunctionConfiguration(v, false)),
      ],
    };
    sendJson(res, 200, JSON.stringify(body), { "x-amzn-RequestId": requestId });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: listenUrl(address.address, address.port),
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function parseInvocationType(header: string | string[] | undefined): InvocationType {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === "") return "RequestResponse";
  if ((INVOCATION_TYPES as readonly string[]).includes(value)) return value as InvocationType;
  throw new LambdaApiError("InvalidParameterValueException", `Invalid invocation type: ${value}`);
}

/** `X-Amz-Client-Context`: base64 JSON, handed to the handler as `context.clientContext`. */
function parseClientContext(header: string | string[] | undefined): unknown {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === "") return undefined;
  try {
    return JSON.parse(Buffer.from(value, "base64").toString("utf8"));
  } catch {
    throw new LambdaApiError("InvalidRequestContentException", "Client context must be base64-encoded JSON");
  }
}

function paginate<K extends string, T>(
  key: K,
  items: readonly T[],
  url: URL,
): Record<K, T[]> & { NextMarker?: string } {
  const maxItems = Number(url.searchParams.get("MaxItems") ?? DEFAULT_LIST_ITEMS);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > MAX_LIST_ITEMS) {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `MaxItems must be from 1 to ${MAX_LIST_ITEMS}`,
    );
  }
  const start = Number(url.searchParams.get("Marker") ?? "0");
  if (!Number.isInteger(start) || start < 0)
    throw new LambdaApiError("InvalidParameterValueException", "Invalid Marker");
  const page = items.slice(start, start + maxItems);
  const next = start + maxItems < items.length ? { NextMarker: String(start + maxItems) } : {};
  return { [key]: page, ...next } as Record<K, T[]> & { NextMarker?: string };
}

function describe(outcome: InvokeOutcome): string {
  switch (outcome.kind) {
    case "success":
      return "succeeded";
    case "function-error":
      return `${outcome.error.errorType}: ${outcome.error.errorMessage}`;
    case "throttled":
      return `throttled (${outcome.reason})`;
    case "shut-down":
      return "endpoint shut down";
    default: {
      const unexpected: never = outcome;
      return String(unexpected);
    }
  }
}
