/** Protocol messages and a scriptable node:http server for the invoker tests. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { PROTOCOL_VERSION } from "@capstan/sdk/protocol";
import type {
  DiscoverRequest,
  DiscoveryResponse,
  InvokeRequest,
  InvokeResponse,
} from "@capstan/sdk/protocol";

export function invokeRequest(overrides: Partial<InvokeRequest> = {}): InvokeRequest {
  return {
    type: "invoke",
    protocolVersion: PROTOCOL_VERSION,
    invocationId: "inv_1",
    target: { service: "orders", handler: "place" },
    attempt: 1,
    attemptToken: "tok_1",
    headers: {},
    journal: [{ index: 0, kind: "input", value: '{"item":"book"}' }],
    retry: { attemptsSinceLastEntry: 0 },
    nowMs: 1_700_000_000_000,
    ...overrides,
  };
}

export function invokeResponse(request: InvokeRequest = invokeRequest()): InvokeResponse {
  return {
    type: "response",
    protocolVersion: PROTOCOL_VERSION,
    invocationId: request.invocationId,
    attemptToken: request.attemptToken,
    entries: [{ index: 1, kind: "output", result: { kind: "value", value: '"ok"' } }],
    outcome: { kind: "completed", value: '"ok"' },
  };
}

export const discoverRequest: DiscoverRequest = { type: "discover", protocolVersion: PROTOCOL_VERSION };

export const discoveryResponse: DiscoveryResponse = {
  type: "discovery",
  protocolVersion: PROTOCOL_VERSION,
  minProtocolVersion: 1,
  sdk: { name: "@capstan/sdk", version: "0.1.0" },
  services: [{ name: "orders", kind: "service", handlers: [{ name: "place", kind: "stateless" }] }],
};

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
export type Handler = (req: Received, res: http.ServerResponse) => void;

/** A real server on 127.0.0.1:0; `handler` can be swapped per test. Tracks requests in flight. */
export class TestServer {
  handler: Handler = (_req, res) => res.writeHead(500).end();
  readonly received: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on("close", () => this.inFlight--);
      const received = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      this.received.push(received);
      this.handler(received, res);
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}
