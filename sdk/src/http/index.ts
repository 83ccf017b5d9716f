/**
 * @capstan/sdk/http: serves definitions over node:http for container deployments. The runtime POSTs
 * protocol messages to `/discover` and `/invoke`.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Definition } from "../definitions/definition";
import type { Endpoint } from "../endpoint/endpoint";
import { createEndpoint } from "../endpoint/endpoint";
import type { EndpointOptions } from "../endpoint/endpoint-options";
import { isAttemptSupersededError } from "../errors/attempt-superseded-error";
import {
  CONTENT_TYPE_JSON,
  DEPLOYMENT_DISCOVER_PATH,
  DEPLOYMENT_INVOKE_PATH,
  isProtocolError,
  MAX_REQUEST_BYTES,
  parseJson,
  STALE_ATTEMPT_CODE,
} from "../protocol";
import { readBody } from "./read-body";

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": CONTENT_TYPE_JSON, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function serveOne(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "").split("?")[0];
  if (path !== DEPLOYMENT_DISCOVER_PATH && path !== DEPLOYMENT_INVOKE_PATH) {
    reply(res, 404, { code: "SDK_UNKNOWN_HANDLER", message: `no route ${path}` });
    return;
  }
  if (req.method !== "POST") {
    reply(res, 405, { code: "PROTOCOL_INVALID_MESSAGE", message: `${req.method} not allowed; use POST` });
    return;
  }
  try {
    const message = parseJson(await readBody(req, MAX_REQUEST_BYTES), MAX_REQUEST_BYTES);
    const type = (message as { type?: unknown } | null)?.type;
    if ((path === DEPLOYMENT_DISCOVER_PATH) !== (type === "discover")) {
      reply(res, 400, {
        code: "PROTOCOL_INVALID_MESSAGE",
        message: `message type ${String(type)} on ${path}`,
      });
      return;
    }
    reply(res, 200, await endpoint.handle(message));
  } catch (e) {
    if (isProtocolError(e)) {
      const status =
        e.code === "PROTOCOL_TOO_LARGE" ? 413 : e.code === "PROTOCOL_IDENTITY_REJECTED" ? 401 : 400;
      reply(res, status, { code: e.code, message: e.message });
    } else if (isAttemptSupersededError(e)) {
      reply(res, 409, { code: STALE_ATTEMPT_CODE, message: e.message });
    } else {
      reply(res, 500, { code: "SDK_INTERNAL", message: e instanceof Error ? e.message : String(e) });
    }
  }
}

/**
 * A node:http request listener for `definitions` (plus optional EndpointOptions). Answers 413 with
 * PROTOCOL_TOO_LARGE above MAX_REQUEST_BYTES, 401 PROTOCOL_IDENTITY_REJECTED for a message not signed
 * by the configured identity keys, 400 with the ProtocolError's code for malformed messages,
 * 409 INVOKE_STALE_ATTEMPT for a superseded attempt.
 *
 * @example
 * http.createServer(createHttpHandler(greeter, counter)).listen(9080);
 */
export function createHttpHandler(...args: Array<Definition | EndpointOptions | Endpoint>): RequestListener {
  const given = args.find((a): a is Endpoint => typeof (a as Endpoint).handle === "function");
  const endpoint = given ?? createEndpoint(...(args as Array<Definition | EndpointOptions>));
  return (req, res) => {
    serveOne(endpoint, req, res).catch((e: unknown) => {
      if (!res.headersSent) reply(res, 500, { code: "SDK_INTERNAL", message: String(e) });
    });
  };
}

/** Options of `serve`. */
export interface ServeOptions extends EndpointOptions {
  services: Definition[];
  /** 9080 by default; 0 picks a free port. */
  port?: number;
  /** 0.0.0.0 by default. */
  host?: string;
}

/** A running HTTP deployment. */
export interface RunningServer {
  server: Server;
  /** Base URL to register with the runtime, e.g. http://127.0.0.1:9080 */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts an HTTP deployment serving `services`.
 *
 * @example
 * const { url } = await serve({ services: [greeter, counter], port: 9080 });
 * // register `url` with the runtime: capstan deployments register http://host:9080
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { services, port = 9080, host = "0.0.0.0", ...endpointOptions } = options;
  const server = createServer(createHttpHandler(...services, endpointOptions));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
