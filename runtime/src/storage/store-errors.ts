/** Errors every store implementation shares (SQLite, in-memory, later DynamoDB/S3). */

/** A store was used after close() (or, in memory, after its process was simulated to die). */
export class StoreClosedError extends Error {
  override readonly name = "StoreClosedError";
  readonly code = "STORE_CLOSED";
  constructor(what: string) {
    super(`${what} is closed`);
  }
}

/**
 * A partition's state is behind the start of its log (its state file was deleted or replaced by an
 * older copy after the log below was trimmed): replaying would silently drop state, so the partition
 * does not start. Restore the state file (or a snapshot at or after `logStartLsn - 1`).
 */
export class StateBehindLogError extends Error {
  override readonly name = "StateBehindLogError";
  readonly code = "STORE_STATE_BEHIND_LOG";
  constructor(
    readonly partition: number,
    readonly appliedLsn: number,
    readonly logStartLsn: number,
  ) {
    super(
      `partition ${partition}: state is at lsn ${appliedLsn} but the log resumes at ${logStartLsn}; ` +
        `its state file was lost or replaced by an older copy`,
    );
  }
}

/** A partition's state file belongs to another partition or partition count. */
export class StateFileMismatchError extends Error {
  override readonly name = "StateFileMismatchError";
  readonly code = "STORE_STATE_FILE_MISMATCH";
}
