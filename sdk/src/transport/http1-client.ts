/**
 * A minimal HTTP/1.1 client over keep-alive plain-TCP sockets, for the protocol's small JSON
 * exchanges on a trusted network path: the SDK's checkpoints to the runtime and the runtime's
 * invokes of the local Lambda endpoint. It writes one request as one string and parses the response
 * head and body (Content-Length, chunked, or until close) itself.
 *
 * Why not node:http: a Lambda execution environment is one V8 isolate that sees only its share of
 * the traffic, so its code stays cold, and node:http's client (agent, ClientRequest, streams, the
 * header machinery) runs several times the JavaScript of this file per request. See
 * docs/adr/0007-http1-transport.md. https: URLs are not handled here (callers use node:https).
 */
import net from "node:net";

/** The status line and headers of one response. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
/** An idle socket is closed before the server's keep-alive timeout (Node's default 5 s) can race a request. */
export const DEFAULT_IDLE_SOCKET_MS = 4_000;
/** Idle sockets kept per client; more concurrent requests open more, closed again when idle. */
export const MAX_IDLE_SOCKETS = 256;
/**
 * How often deadlines and idle sockets are checked: deadlines are coarse (a checkpoint's is its
 * long-poll + 10 s), and each check wakes the isolate, which in an idle Lambda environment is pure cost.
 */
export const SWEEP_MS = 500;
/** One read's worth of bytes, reused for every socket of a client (reads are copied out at once). */
const READ_BUFFER_BYTES = 64 * 1024;

export interface Http1Request {
  readonly method: string;
  /** Path and query, e.g. "/internal/v1/checkpoint". */
  readonly path: string;
  /** Header names as they should be written; Host and Content-Length are added. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /**
   * From writing the request to the last byte of the body, checked every SWEEP_MS (so it fires up to
   * that much late); a resend on a fresh socket (`retryStale`) starts a new one.
   */
  readonly timeoutMs: number;
  /** A larger response body fails the request. */
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal;
}

export interface Http1Response {
  readonly status: number;
  readonly reason: string;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** The exchange failed; `code` follows Node's (ECONNRESET, ECONNREFUSED, ETIMEDOUT, ...). */
export class Http1Error extends Error {
  override readonly name = "Http1Error";
  constructor(
    message: string,
    readonly code: string,
    /** The request went out on a reused socket that closed before any byte of an answer arrived. */
    readonly staleSocket = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type Step = "head" | "length" | "chunk-size" | "chunk-data" | "trailers" | "close";

/** One response being read from a socket. */
class ResponseReader {
  private buffered: Buffer = Buffer.alloc(0);
  private step: Step = "head";
  private status = 0;
  private reason = "";
  private headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];
  private bodyBytes = 0;
  private remaining = 0;
  /** The server will close the socket after this response. */
  closeAfter = false;
  /** Bytes arrived for this response at all (a reused socket that closes before any is stale). */
  received = false;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly noBody: boolean,
  ) {}

  /** Feeds bytes; returns the response once complete, throws Http1Error on a malformed one. */
  feed(data: Buffer): Http1Response | undefined {
    this.received = true;
    this.buffered = this.buffered.length === 0 ? data : Buffer.concat([this.buffered, data]);
    for (;;) {
      const progressed = this.advance();
      if (progressed === "done") return this.response();
      if (!progressed) return undefined;
    }
  }

  /** The socket ended: a body read until close is complete, anything else is cut short. */
  end(): Http1Response | undefined {
    return this.step === "close" ? this.response() : undefined;
  }

  /** Bytes left over after the response (a server must not send any: the socket is not reused). */
  get leftover(): number {
    return this.buffered.length;
  }

  private response(): Http1Response {
    return {
      status: this.status,
      reason: this.reason,
      headers: this.headers,
      body: Buffer.concat(this.chunks),
    };
  }

  private advance(): boolean | "done" {
    switch (this.step) {
      case "head":
        return this.readHead();
      case "length": {
        if (this.buffered.length === 0) return false;
        const n = Math.min(this.remaining, this.buffered.length);
        this.take(n);
        this.remaining -= n;
        return this.remaining === 0 ? "done" : false;
      }
      case "chunk-size": {
        const eol = this.buffered.indexOf("\r\n");
        if (eol < 0) return this.bounded(this.buffered.length, "chunk size line");
        const line = this.buffered.toString("latin1", 0, eol);
        const size = parseInt(line.split(";", 1)[0]!.trim(), 16);
        if (!Number.isSafeInteger(size) || size < 0) throw protocolError(`bad chunk size "${line}"`);
        this.buffered = this.buffered.subarray(eol + 2);
        this.remaining = size;
        this.step = size === 0 ? "trailers" : "chunk-data";
        return true;
      }
      case "chunk-data": {
        if (this.remaining > 0) {
          const n = Math.min(this.remaining, this.buffered.length);
          if (n === 0) return false;
          this.take(n);
          this.remaining -= n;
          if (this.remaining > 0) return false;
        }
        if (this.buffered.length < 2) return false;
        this.buffered = this.buffered.subarray(2);
        this.step = "chunk-size";
        return true;
      }
      case "trailers": {
        // Trailer lines (ignored) end with an empty line.
        if (this.buffered.length >= 2 && this.buffered[0] === 13 && this.buffered[1] === 10) {
          this.buffered = this.buffered.subarray(2);
          return "done";
        }
        const end = this.buffered.indexOf("\r\n\r\n");
        if (end < 0) return this.bounded(this.buffered.length, "trailers");
        this.buffered = this.buffered.subarray(end + 4);
        return "done";
      }
      case "close":
        if (this.buffered.length > 0) this.take(this.buffered.length);
        return false;
    }
  }

  private readHead(): boolean | "done" {
    const end = this.buffered.indexOf("\r\n\r\n");
    if (end < 0) return this.bounded(this.buffered.length, "response head");
    if (end > MAX_RESPONSE_HEAD_BYTES)
      throw protocolError(`response head over ${MAX_RESPONSE_HEAD_BYTES} bytes`);
    const lines = this.buffered.toString("latin1", 0, end).split("\r\n");
    this.buffered = this.buffered.subarray(end + 4);
    const m = /^HTTP\/1\.([01]) ([0-9]{3})(?: (.*))?$/.exec(lines[0]!);
    if (!m) throw protocolError(`bad status line "${lines[0]!.slice(0, 100)}"`);
    const status = Number(m[2]);
    // 1xx interim answers (100 Continue, 103 Early Hints) come before the real one.
    if (status >= 100 && status < 200) return true;
    this.status = status;
    this.reason = m[3] ?? "";
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw protocolError(`bad header line "${line.slice(0, 100)}"`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    this.headers = headers;
    const connection = (headers["connection"] ?? "").toLowerCase();
    this.closeAfter = connection.includes("close") || (m[1] === "0" && !connection.includes("keep-alive"));
    if (this.noBody || status === 204 || status === 304) return "done";
    if ((headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) {
      this.step = "chunk-size";
      return true;
    }
    const length = headers["content-length"];
    if (length !== undefined) {
      const n = Number(length);
      if (!/^[0-9]+$/.test(length) || !Number.isSafeInteger(n))
        throw protocolError(`bad content-length "${length}"`);
      this.checkBodySize(n);
      if (n === 0) return "done";
      this.remaining = n;
      this.step = "length";
      return true;
    }
    this.closeAfter = true;
    this.step = "close";
    return true;
  }

  private take(n: number): void {
    this.checkBodySize(this.bodyBytes + n);
    this.chunks.push(this.buffered.subarray(0, n));
    this.bodyBytes += n;
    this.buffered = this.buffered.subarray(n);
  }

  private checkBodySize(n: number): void {
    if (n > this.maxBodyBytes) throw protocolError(`response body larger than ${this.maxBodyBytes} bytes`);
  }

  /**
   * Waiting for more of a line: fine unless it is already too long. The 4 bytes of slack are the
   * terminator that may still be arriving, so a head at exactly the limit passes however it is split.
   */
  private bounded(length: number, what: string): false {
    if (length > MAX_RESPONSE_HEAD_BYTES + 4)
      throw protocolError(`${what} over ${MAX_RESPONSE_HEAD_BYTES} bytes`);
    return false;
  }
}

function protocolError(message: string): Http1Error {
  return new Http1Error(`malformed HTTP response: ${message}`, "HPE_INVALID_RESPONSE");
}

/** A request in flight on a connection. */
interface Exchange {
  readonly reader: ResponseReader;
  readonly reused: boolean;
  /** performance.now() after which the sweeper ends the exchange with ETIMEDOUT. */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly settle: (result: Http1Response | Http1Error) => void;
}

/** One keep-alive socket; carries at most one exchange at a time. */
class Connection {
  current: Exchange | undefined;
  /** performance.now() when the socket was parked. */
  idleSince = 0;
  closed = false;
  readonly socket: net.Socket;

  constructor(
    host: string,
    port: number,
    readBuffer: Buffer,
    private readonly onGone: (c: Connection) => void,
  ) {
    // `onread` hands each read to us directly, without the stream machinery ('data' events through
    // Readable) that otherwise costs more than parsing the response. The buffer is reused: copy.
    this.socket = net.connect({
      host,
      port,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.onData(buf, n);
          return true; // false would pause the socket
        },
      },
    });
    this.socket.setNoDelay(true);
    this.socket.on("error", (e: NodeJS.ErrnoException) => this.onClose(e));
    this.socket.on("close", () => this.onClose(undefined));
    this.socket.on("end", () => this.onEnd());
  }

  send(head: string, body: Buffer | string | undefined, exchange: Exchange): void {
    this.socket.ref();
    this.current = exchange;
    if (body === undefined || body.length === 0) this.socket.write(head, "latin1");
    else if (typeof body === "string") this.socket.write(head + body, "utf8");
    else if (body.length < 16 * 1024) this.socket.write(Buffer.concat([Buffer.from(head, "latin1"), body]));
    else {
      this.socket.write(head, "latin1");
      this.socket.write(body);
    }
  }

  /** Parks the socket for reuse: unref'd, so it never keeps a process alive. */
  park(now: number): void {
    this.socket.unref();
    this.idleSince = now;
  }

  destroy(error?: Http1Error): void {
    if (!this.closed) {
      this.closed = true;
      this.socket.destroy();
      this.onGone(this);
    }
    const exchange = this.current;
    this.current = undefined;
    if (exchange !== undefined && error !== undefined) exchange.settle(error);
  }

  private onData(buf: Uint8Array, n: number): void {
    const exchange = this.current;
    if (exchange === undefined) {
      this.destroy(); // bytes nobody asked for: the socket is out of step
      return;
    }
    let response: Http1Response | undefined;
    try {
      response = exchange.reader.feed(Buffer.from(buf.subarray(0, n))); // a copy: `buf` is reused
    } catch (e) {
      this.destroy(e as Http1Error);
      return;
    }
    if (response === undefined) return;
    this.current = undefined;
    if (exchange.reader.closeAfter || exchange.reader.leftover > 0) this.destroy();
    exchange.settle(response);
  }

  private onEnd(): void {
    const exchange = this.current;
    const response = exchange?.reader.end();
    if (exchange !== undefined && response !== undefined) {
      this.current = undefined;
      exchange.settle(response);
    }
    this.onClose(undefined);
  }

  private onClose(error: NodeJS.ErrnoException | undefined): void {
    const exchange = this.current;
    const stale = exchange !== undefined && exchange.reused && !exchange.reader.received;
    const code = error?.code ?? "ECONNRESET";
    this.destroy(
      new Http1Error(
        error?.message ?? "the socket closed before the response was complete",
        code,
        stale,
        error === undefined ? undefined : { cause: error },
      ),
    );
  }
}

/**
 * Keep-alive connections to one `host:port`.
 *
 * Deadlines and idle sockets are checked by one unref'd sweep every SWEEP_MS while the client has
 * sockets, not by a timer per request: a timeout fires within SWEEP_MS after it is due.
 *
 * @example
 * const client = new Http1Client("127.0.0.1", 9070);
 * const res = await client.request({ method: "POST", path: "/internal/v1/checkpoint", body: json, timeoutMs: 10_000, maxBodyBytes: 1 << 20 });
 */
export class Http1Client {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly hostHeader: string;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly idleSocketMs = DEFAULT_IDLE_SOCKET_MS,
  ) {
    this.hostHeader = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  /**
   * Sends the request; `retryStale` resends it once on a fresh socket when a reused one turns out
   * to be closed before any answer (only for requests that are safe to repeat).
   */
  async request(request: Http1Request, retryStale = false): Promise<Http1Response> {
    try {
      return await this.exchange(request, false);
    } catch (e) {
      if (retryStale && e instanceof Http1Error && e.staleSocket) return this.exchange(request, true);
      throw e;
    }
  }

  /** Closes every socket; requests in flight fail with ECONNRESET. */
  close(): void {
    for (const c of [...this.all]) c.destroy(new Http1Error("the client was closed", "ECONNRESET"));
  }

  private exchange(request: Http1Request, fresh: boolean): Promise<Http1Response> {
    const signal = request.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const body = request.body === undefined ? undefined : toBufferOrString(request.body);
    let head = `${checkToken(request.method, "method")} ${checkText(request.path, "path")} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    for (const name in request.headers)
      head += `${checkToken(name, "header name")}: ${checkText(request.headers[name]!, `header ${name}`)}\r\n`;
    if (body !== undefined || request.method === "POST" || request.method === "PUT") {
      const length =
        body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
      head += `Content-Length: ${length}\r\n`;
    }
    head += "\r\n";
    const now = performance.now();
    return new Promise<Http1Response>((resolve, reject) => {
      const c = (fresh ? undefined : this.takeIdle(now)) ?? this.connect();
      const reused = c.idleSince !== 0;
      const onAbort = (): void => c.destroy(abortError(signal!));
      const settle = (result: Http1Response | Http1Error): void => {
        signal?.removeEventListener("abort", onAbort);
        if (result instanceof Http1Error) {
          reject(result);
          return;
        }
        if (!c.closed) this.release(c);
        resolve(result);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      c.send(head, body, {
        reader: new ResponseReader(request.maxBodyBytes, request.method === "HEAD"),
        reused,
        deadline: now + request.timeoutMs,
        timeoutMs: request.timeoutMs,
        settle,
      });
    });
  }

  /** The most recently parked socket still young enough to trust; older ones are closed. */
  private takeIdle(now: number): Connection | undefined {
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) {
      if (now - c.idleSince < this.idleSocketMs) return c;
      c.destroy();
    }
    return undefined;
  }

  private connect(): Connection {
    const c = new Connection(this.host, this.port, this.readBuffer, (gone) => {
      this.all.delete(gone);
      const i = this.idle.indexOf(gone);
      if (i >= 0) this.idle.splice(i, 1);
    });
    this.all.add(c);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
    return c;
  }

  private release(c: Connection): void {
    if (this.idle.length >= MAX_IDLE_SOCKETS) {
      c.destroy();
      return;
    }
    c.park(performance.now());
    this.idle.push(c);
  }

  private sweep(): void {
    const now = performance.now();
    for (const c of [...this.all]) {
      const exchange = c.current;
      if (exchange !== undefined) {
        if (now >= exchange.deadline)
          c.destroy(new Http1Error(`no complete answer within ${exchange.timeoutMs} ms`, "ETIMEDOUT"));
      } else if (now - c.idleSince >= this.idleSocketMs) c.destroy();
    }
    if (this.all.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

/** Printable ASCII (and tab) only: no line breaks to inject a header, no bytes latin1 would mangle. */
const TEXT = /^[\t\x20-\x7e]*$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function checkText(value: string, what: string): string {
  if (!TEXT.test(value)) throw new Http1Error(`invalid character in ${what}`, "ERR_INVALID_CHAR");
  return value;
}

function checkToken(value: string, what: string): string {
  if (!TOKEN.test(value)) throw new Http1Error(`invalid ${what} "${value.slice(0, 40)}"`, "ERR_INVALID_CHAR");
  return value;
}

function toBufferOrString(body: Uint8Array | string): Buffer | string {
  if (typeof body === "string") return body;
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function abortError(signal: AbortSignal): Http1Error {
  const reason: unknown = signal.reason;
  return new Http1Error("the request was aborted", "ABORT_ERR", false, { cause: reason });
}
