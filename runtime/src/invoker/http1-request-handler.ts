/**
 * The AWS SDK's transport (`requestHandler`) for Capstan's local Lambda endpoint: the SDK's HTTP/1.1
 * client instead of @smithy/node-http-handler. Everything above the transport — InvokeCommand's
 * serializer, middleware, error parsing — is the SDK's own, as against AWS. Plain http only: AWS
 * endpoints (https) keep the SDK's default handler. See docs/adr/0007-http1-transport.md.
 */
import { Http1Client } from "@capstan/sdk/transport";

/** The slice of @smithy/types' HttpRequest and HttpResponse this handler reads and writes. */
interface SdkHttpRequest {
  method: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}
interface SdkHttpResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Lambda's response limit is 6 MB; the endpoint's error bodies are far smaller. */
export const MAX_LAMBDA_RESPONSE_BYTES = 7 * 1024 * 1024;
/** The SDK's own default when no timeout is set: none; a stuck endpoint is ended by the attempt's abort. */
const NO_TIMEOUT_MS = 2_147_483_647;

export class Http1RequestHandler {
  readonly metadata = { handlerProtocol: "http/1.1" };
  private readonly clients = new Map<string, Http1Client>();
  /** Abort signals of requests sent without per-send options, keyed by their body (the SDK passes it through). */
  private readonly signals = new WeakMap<object, AbortSignal>();

  /** Aborts the request whose body is `body` when `signal` fires (for a client with cacheMiddleware). */
  bindSignal(body: Uint8Array, signal: AbortSignal): void {
    this.signals.set(body, signal);
  }

  async handle(
    request: SdkHttpRequest,
    options: { abortSignal?: unknown; requestTimeout?: number } = {},
  ): Promise<{ response: SdkHttpResponse }> {
    const port = request.port ?? 80;
    const key = `${request.hostname}:${port}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      client = new Http1Client(request.hostname, port);
      this.clients.set(key, client);
    }
    const headers = { ...request.headers };
    delete headers["host"];
    delete headers["content-length"];
    const signal =
      options.abortSignal instanceof AbortSignal
        ? options.abortSignal
        : typeof request.body === "object" && request.body !== null
          ? this.signals.get(request.body)
          : undefined;
    const res = await client.request({
      method: request.method,
      path: request.path + queryString(request.query),
      headers,
      ...(request.body !== undefined && { body: bodyOf(request.body) }),
      timeoutMs: options.requestTimeout ?? NO_TIMEOUT_MS,
      maxBodyBytes: MAX_LAMBDA_RESPONSE_BYTES,
      // The runtime passes a DOM AbortSignal; the SDK's deprecated signal type is never used here.
      ...(signal !== undefined && { signal }),
    });
    return {
      response: { statusCode: res.status, reason: res.reason, headers: res.headers, body: res.body },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

function queryString(query: SdkHttpRequest["query"]): string {
  if (query === undefined) return "";
  const parts: string[] = [];
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    const key = encodeURIComponent(name);
    if (value === null || value === undefined) parts.push(key);
    else
      for (const v of Array.isArray(value) ? value : [value]) parts.push(`${key}=${encodeURIComponent(v)}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

function bodyOf(body: unknown): Uint8Array | string {
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  throw new TypeError("the local Lambda transport sends only string or byte bodies");
}
