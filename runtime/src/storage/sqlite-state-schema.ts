/**
 * Schema of a partition's state file (`<dataDir>/partitions/p<N>.db`): one table per kind of state,
 * values as JSON, with the columns and indexes that lookups, recover and the admin reads need.
 * Version history (kept in `PRAGMA user_version`; one line per version, never reuse a number):
 * - 1: partition_meta, inbound_seq, invocations, idempotency, workflows, object_state, locks, inboxes,
 *   timers, promises, promise_waiters, outbox.
 * - 2: timers.fire_at_ms with the index `timers_by_due` (the timer service pages due timers from it
 *   instead of holding every timer in memory); invocation_counts (invocations per status) and
 *   partition_meta.timer_count, kept up to date by each commit instead of a scan per metrics scrape.
 * - 3: the counts per status move from the invocation_counts table into partition_meta (a JSON
 *   object, `invocation_counts`), written by the same UPDATE as the applied LSN: one page fewer in
 *   most commits (a commit of a few records wrote ~5 pages).
 * - 4: partition_meta.timer_counts (a JSON object: timers per group, the id's prefix before its first
 *   `:`) replaces timer_count. A point read of a timer whose group holds none is answered without
 *   reading the file: the request path asks for retry and delayed-start timers that almost never
 *   exist (three lookups of every request).
 */
export const STATE_SCHEMA_VERSION = 4;

export const STATE_SCHEMA_V1 = `
  CREATE TABLE partition_meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    partition INTEGER NOT NULL,
    partitions INTEGER NOT NULL,
    applied_lsn INTEGER NOT NULL,
    next_outbox_seq INTEGER NOT NULL
  );
  CREATE TABLE inbound_seq (producer INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
  CREATE TABLE invocations (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    service TEXT NOT NULL,
    object_key TEXT,
    created_at_ms INTEGER NOT NULL,
    body TEXT NOT NULL
  ); -- a rowid table: WITHOUT ROWID spills rows over ~1 KB (most invocations) into overflow pages
  CREATE INDEX invocations_by_status ON invocations (status);
  CREATE INDEX invocations_by_created ON invocations (created_at_ms, id);
  CREATE TABLE idempotency (key TEXT PRIMARY KEY, invocation_id TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE workflows (key TEXT PRIMARY KEY, invocation_id TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE object_state (
    object_key TEXT NOT NULL,
    state_key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (object_key, state_key)
  ) WITHOUT ROWID;
  CREATE TABLE locks (key TEXT PRIMARY KEY, invocation_id TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE inboxes (key TEXT PRIMARY KEY, ids TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE timers (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE promises (key TEXT PRIMARY KEY, completion TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE promise_waiters (key TEXT PRIMARY KEY, waiters TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    to_partition INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX outbox_by_destination ON outbox (to_partition, seq);
`;

/** From version 1 to 2; a new file runs V1 then this, so there is one path to the current schema. */
export const STATE_SCHEMA_V1_TO_V2 = `
  ALTER TABLE timers ADD COLUMN fire_at_ms INTEGER NOT NULL DEFAULT 0;
  UPDATE timers SET fire_at_ms = json_extract(body, '$.fireAtMs');
  CREATE INDEX timers_by_due ON timers (fire_at_ms, id);
  CREATE TABLE invocation_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO invocation_counts (status, n) SELECT status, count(*) FROM invocations GROUP BY status;
  ALTER TABLE partition_meta ADD COLUMN timer_count INTEGER NOT NULL DEFAULT 0;
  UPDATE partition_meta SET timer_count = (SELECT count(*) FROM timers);
`;

/** From version 2 to 3 (see the version history above). */
export const STATE_SCHEMA_V2_TO_V3 = `
  ALTER TABLE partition_meta ADD COLUMN invocation_counts TEXT NOT NULL DEFAULT '{}';
  UPDATE partition_meta SET invocation_counts = (SELECT json_group_object(status, n) FROM invocation_counts);
  DROP TABLE invocation_counts;
`;

/** From version 3 to 4 (see the version history above); the group expression is `timerGroupOf`'s. */
export const STATE_SCHEMA_V3_TO_V4 = `
  ALTER TABLE partition_meta ADD COLUMN timer_counts TEXT NOT NULL DEFAULT '{}';
  UPDATE partition_meta SET timer_counts = (
    SELECT coalesce(json_group_object(grp, n), '{}') FROM (
      SELECT CASE instr(id, ':') WHEN 0 THEN '' ELSE substr(id, 1, instr(id, ':') - 1) END AS grp,
        count(*) AS n
      FROM timers GROUP BY grp
    )
  );
  ALTER TABLE partition_meta DROP COLUMN timer_count;
`;
