/**
 * Lifecycle shared by the ingress and admin servers: node:http, routing, error replies, client-abort
 * signals, a drain() that lets the requests in flight finish (request-drain.ts), and a close() that
 * drops every connection at once.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Router } from "./router";
import { ApiError } from "./api-error";
import { ClientGone, sendError, type ServerLogger } from "./http-util";
import { MAX_HTTP_HEADER_BYTES, MAX_HTTP_HEADER_COUNT } from "./limits";
import { areaDrainErrors, RequestDrain, type DrainErrors } from "./request-drain";

export interface ServerHandle {
  /** The bound port (the ephemeral one when started with port 0). */
  port: number;
  /** Stops accepting, closes every connection (idle keep-alive and in-flight), then resolves. Idempotent. */
  close(): Promise<void>;
  /**
   * Stops accepting and lets the requests in flight finish, for at most `deadlineMs`; new requests
   * on open connections get 503 `<AREA>_NODE_DRAINING`, those still running at the deadline 503
   * `<AREA>_DRAIN_DEADLINE` (request-drain.ts). Resolves once every connection is closed. Idempotent.
   */
  drain(deadlineMs: number): Promise<void>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  router: Router;
  logger: ServerLogger;
  /** Headers added to every error response (e.g. Restate's `x-restate-error-source`). */
  errorHeaders?: Record<string, string>;
  /**
   * Runs before routing; throws ApiError (e.g. 401) to refuse the request whatever its path, so an
   * unauthenticated request learns nothing about which routes exist. May be async (a verifier).
   */
  authorize?: (req: IncomingMessage, method: string, path: string) => void | Promise<void>;
  /** What a drain answers; default `<AREA>_NODE_DRAINING` and `<AREA>_DRAIN_DEADLINE`. */
  drainErrors?: DrainErrors;
}

export async function startHttpServer(options: HttpServerOptions): Promise<ServerHandle> {
  const { router, logger } = options;
  const requests = new RequestDrain(
    options.drainErrors ?? areaDrainErrors(router.area),
    logger,
    options.errorHeaders,
  );

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (requests.draining) return sendError(res, requests.refusal(), logger, options.errorHeaders);
    const abort = new AbortController();
    requests.track(res, abort);
    res.on("close", () => {
      if (!res.writableFinished) abort.abort(new ClientGone());
    });
    // A failed write to a vanished client must never become an uncaught 'error'.
    res.on("error", () => abort.abort(new ClientGone()));
    req.on("error", () => abort.abort(new ClientGone()));
    try {
      refuseUnparsable(req, router.area);
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q === -1 ? url : url.slice(0, q);
      const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
      await options.authorize?.(req, req.method ?? "GET", path);
      const { handler, params } = router.match(req.method ?? "GET", path);
      await handler({ req, res, params, query, signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) return;
      sendError(res, e, logger, options.errorHeaders);
    }
  };

  // node:http answers a request without `Host` itself, with an empty 400: `refuseUnparsable` does it in JSON.
  const server = createServer(
    { maxHeaderSize: MAX_HTTP_HEADER_BYTES, requireHostHeader: false },
    (req, res) => {
      handle(req, res).catch((e: unknown) => logger.error("HTTP handler failed", { error: e }));
    },
  );
  // One line past the limit is parsed, so a request over it is seen and refused, never truncated.
  server.maxHeadersCount = MAX_HTTP_HEADER_COUNT + 1;
  // An `Expect` other than 100-continue: node:http would answer an empty 417 without this listener.
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    const expectation = JSON.stringify(String(req.headers.expect ?? "")).slice(0, 200);
    sendError(
      res,
      new ApiError(417, `${router.area}_EXPECTATION_FAILED`, `unsupported Expect header ${expectation}`),
      logger,
      { ...options.errorHeaders, connection: "close" },
    );
  });
  // A request node:http cannot parse never reaches a route: answered here, still as a JSON error.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const { status, code, message } = clientErrorReply(err);
    const body = JSON.stringify({ code: `${router.area}_${code}`, message });
    const extra = Object.entries(options.errorHeaders ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra.join("")}\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (e) => logger.error("HTTP server error", { error: e }));

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        // Closed already by a drain: the listener is gone, only the connections are left to drop.
        if (!server.listening) resolve();
        else server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      })),
    drain: (deadlineMs) => requests.drain(server, deadlineMs),
  };
}

/** The JSON answer to what node:http refuses before a request exists (parse errors, timeouts). */
function clientErrorReply(err: NodeJS.ErrnoException): { status: number; code: string; message: string } {
  if (err.code === "HPE_HEADER_OVERFLOW") {
    return {
      status: 431,
      code: "HEADERS_TOO_LARGE",
      message: `request line and headers over ${MAX_HTTP_HEADER_BYTES} bytes`,
    };
  }
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ERR_HTTP_HEADERS_TIMEOUT") {
    return { status: 408, code: "REQUEST_TIMEOUT", message: "the request was not received in time" };
  }
  return { status: 400, code: "BAD_REQUEST", message: `malformed HTTP request (${err.code ?? err.message})` };
}

/**
 * What node:http lets through but a route must not see: too many header lines (the parser kept one
 * more than the limit), or an HTTP/1.1 request without `Host` (RFC 9112 §3.2).
 */
function refuseUnparsable(req: IncomingMessage, area: string): void {
  if (req.rawHeaders.length / 2 > MAX_HTTP_HEADER_COUNT) {
    throw new ApiError(431, `${area}_HEADERS_TOO_LARGE`, `more than ${MAX_HTTP_HEADER_COUNT} header lines`);
  }
  if (req.httpVersion === "1.1" && req.headers.host === undefined) {
    throw new ApiError(400, `${area}_MISSING_HOST`, "an HTTP/1.1 request needs a Host header");
  }
}
