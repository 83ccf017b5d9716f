/**
 * Lifecycle shared by the ingress and admin servers: node:http, routing, error replies, client-abort
 * signals, and a close() that also drops keep-alive connections.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Router } from "./router";
import { ClientGone, sendError, type ServerLogger } from "./http-util";
import { MAX_HTTP_HEADER_BYTES } from "./limits";

export interface ServerHandle {
  /** The bound port (the ephemeral one when started with port 0). */
  port: number;
  /** Stops accepting, closes every connection (idle keep-alive and in-flight), then resolves. Idempotent. */
  close(): Promise<void>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  router: Router;
  logger: ServerLogger;
  /** Headers added to every error response (e.g. Restate's `x-restate-error-source`). */
  errorHeaders?: Record<string, string>;
  /** Runs before routing; throws ApiError (e.g. 401) to refuse the request whatever its path. */
  authorize?: (req: IncomingMessage, method: string, path: string) => void;
}

export async function startHttpServer(options: HttpServerOptions): Promise<ServerHandle> {
  const { router, logger } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort(new ClientGone());
    });
    // A failed write to a vanished client must never become an uncaught 'error'.
    res.on("error", () => abort.abort(new ClientGone()));
    req.on("error", () => abort.abort(new ClientGone()));
    try {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q === -1 ? url : url.slice(0, q);
      const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
      options.authorize?.(req, req.method ?? "GET", path);
      const { handler, params } = router.match(req.method ?? "GET", path);
      await handler({ req, res, params, query, signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) return;
      sendError(res, e, logger, options.errorHeaders);
    }
  };

  const server = createServer({ maxHeaderSize: MAX_HTTP_HEADER_BYTES }, (req, res) => {
    handle(req, res).catch((e: unknown) => logger.error("HTTP handler failed", { error: e }));
  });
  // A request node:http cannot parse never reaches a route: answered here, still as a JSON error.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const overflow = err.code === "HPE_HEADER_OVERFLOW";
    const status = overflow ? 431 : 400;
    const body = JSON.stringify(
      overflow
        ? {
            code: `${router.area}_HEADERS_TOO_LARGE`,
            message: `request line and headers over ${MAX_HTTP_HEADER_BYTES} bytes`,
          }
        : {
            code: `${router.area}_BAD_REQUEST`,
            message: `malformed HTTP request (${err.code ?? err.message})`,
          },
    );
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
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      })),
  };
}
