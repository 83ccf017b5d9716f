/** Errors every store implementation shares (SQLite, in-memory, later DynamoDB/S3). */

/** A store was used after close() (or, in memory, after its process was simulated to die). */
export class StoreClosedError extends Error {
  override readonly name = "StoreClosedError";
  readonly code = "STORE_CLOSED";
  constructor(what: string) {
    super(`${what} is closed`);
  }
}
