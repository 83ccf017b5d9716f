/**
 * The main thread's side of the log's writer thread: posts one batch at a time, maps replies back to
 * their batch, and turns the thread's death into STORE_WRITER_FAILED for the batch in flight and for
 * every later commit (so appends fail fast instead of waiting for a thread that will never answer).
 */
import { Worker } from "node:worker_threads";
import { threadScript } from "../threads/thread-script";
import { BUSY_TIMEOUT_MS } from "./sqlite-database";
import type {
  LogWriter,
  WriteOp,
  WriteOutcome,
  WriterData,
  WriterReply,
  WriterRequest,
} from "./sqlite-log-writer";

/** The log's writer thread died or could not start: nothing more can be appended in this process. */
export class StoreWriterFailedError extends Error {
  override readonly name = "StoreWriterFailedError";
  readonly code = "STORE_WRITER_FAILED";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`the log's writer thread failed (${detail}); restart the runtime`, options);
  }
}

interface InFlight {
  id: number;
  resolve: (outcomes: WriteOutcome[]) => void;
  reject: (e: unknown) => void;
}

/**
 * @example
 * const writer = new ThreadLogWriter(database.file);
 * const outcomes = await writer.commit([{ kind: "append", partition: 0, firstLsn: 1, rows: ['"r"'], epoch: 0, owner: null }]);
 */
export class ThreadLogWriter implements LogWriter {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private inFlight: InFlight | undefined;
  private nextId = 1;
  private closing = false;
  private lastError: Error | undefined;
  failure: StoreWriterFailedError | undefined;

  constructor(file: string) {
    // better-sqlite3 stays out of a bundle: a native addon finds its binary relative to its own files.
    const script = threadScript(__dirname, "sqlite-log-writer-entry", ["better-sqlite3"]);
    const data: WriterData = { file, busyTimeoutMs: BUSY_TIMEOUT_MS };
    this.worker = new Worker(script.filename, { eval: script.eval, workerData: data });
    // Only a commit in flight (or closing) keeps the process alive, as an open connection would not.
    this.worker.unref();
    this.worker.on("message", (reply: WriterReply) => this.onReply(reply));
    this.worker.on("error", (error) => (this.lastError = error));
    this.exited = new Promise((resolve) =>
      this.worker.on("exit", (code) => {
        this.onExit(code);
        resolve();
      }),
    );
  }

  commit(ops: readonly WriteOp[]): Promise<WriteOutcome[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.inFlight !== undefined) throw new Error("ThreadLogWriter commits one batch at a time");
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.inFlight = { id, resolve, reject };
      this.worker.ref();
      const request: WriterRequest = { type: "commit", id, ops };
      this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    if (!this.closing && this.failure === undefined) {
      this.closing = true;
      this.worker.ref();
      const request: WriterRequest = { type: "close" };
      this.worker.postMessage(request);
    }
    await this.exited;
  }

  /** Ends the thread as a crash would (tests of the failure path). */
  async terminateForTesting(): Promise<void> {
    await this.worker.terminate();
  }

  private onReply(reply: WriterReply): void {
    const inFlight = this.inFlight;
    if (inFlight === undefined || inFlight.id !== reply.id) {
      this.fail(`reply to batch ${reply.id} out of order`);
      return;
    }
    this.inFlight = undefined;
    this.worker.unref();
    switch (reply.type) {
      case "committed":
        inFlight.resolve(reply.outcomes);
        break;
      case "failed":
        inFlight.reject(Object.assign(new Error(reply.error.message), reply.error));
        break;
    }
  }

  private onExit(code: number): void {
    if (this.closing && code === 0 && this.inFlight === undefined) return;
    this.fail(this.lastError?.message ?? `exited with code ${code}`);
  }

  private fail(detail: string): void {
    this.failure ??= new StoreWriterFailedError(detail, { cause: this.lastError });
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    inFlight?.reject(this.failure);
    void this.worker.terminate();
  }
}
