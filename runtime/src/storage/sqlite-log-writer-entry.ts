/**
 * The log's writer thread: owns its own connection to capstan.db (WAL: this one writer plus the main
 * thread's readers) and commits each batch it receives with commitWriteBatch, so the fsync blocks this
 * thread instead of the runtime's event loop. Batches arrive one at a time (the store keeps a single
 * commit in flight); replies go back in order.
 *
 * A failed transaction is reported for its batch alone and the thread carries on, as the inline writer
 * does. Anything else that goes wrong (the file cannot be opened, a bug) is left uncaught: the thread
 * dies and the store fails every pending and later append with STORE_WRITER_FAILED.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { commitWriteBatch, prepareLogWriteStatements } from "./sqlite-log-writer";
import type { WriterData, WriterReply, WriterRequest } from "./sqlite-log-writer";

const data = workerData as WriterData;
const port = parentPort;
if (port === null) throw new Error("sqlite-log-writer-entry runs as a worker thread");

// The main thread already created the file, set WAL (persistent in the file) and migrated the schema.
const db = new Database(data.file);
// Per connection, not per file: this connection's commits must be fsync'd too.
db.pragma("synchronous = FULL");
db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
const stmts = prepareLogWriteStatements(db);

port.on("message", (request: WriterRequest) => {
  switch (request.type) {
    case "commit": {
      let reply: WriterReply;
      try {
        reply = { type: "committed", id: request.id, outcomes: commitWriteBatch(db, stmts, request.ops) };
      } catch (e) {
        const error = e as Error & { code?: unknown };
        reply = {
          type: "failed",
          id: request.id,
          error: {
            name: error.name,
            message: error.message,
            ...(typeof error.code === "string" && { code: error.code }),
          },
        };
      }
      port.postMessage(reply);
      break;
    }
    case "close":
      db.close();
      port.close();
      break;
  }
});
