// Micro-benchmark of admin SQL over partitions' state files (not a test): fills one state file with
// `keys` retained counter invocations and their state, copies it to `partitions` files (same rows in
// each: the times depend on the row count, not on their values), then times queries run as the
// admin API runs them (runQueryInProcess, files read in place by the query's process: wall-clock
// milliseconds of 3 runs, process start included), then the same query's CPU milliseconds in this
// process (runReadOnlyQuery without a time limit: what a query costs whatever else the machine runs).
// Usage: node runtime/src/storage/test-support/query-files-bench.js [keysPerPartition=34375] [partitions=16]
"use strict";
require("./register-ts.js");
const { applyInBatches, counterRecords } = require("./counter-records.js");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { performance } = require("node:perf_hooks");
const { formatInvocationId } = require("@capstan/sdk/protocol");
const src = path.join(__dirname, "..", "..");
const { SqliteStateStores, stateFileOf } = require(path.join(src, "storage", "sqlite-state-store.ts"));
const { runQueryInProcess } = require(path.join(src, "server", "sql-query-process.ts"));
const { runReadOnlyQuery } = require(path.join(src, "server", "sql-query.ts"));

const [keys = 34_375, partitions = 16] = process.argv.slice(2, 4).map(Number);
const BATCH = 64;

const QUERIES = [
  "SELECT 1",
  "SELECT count(*) FROM invocations",
  "SELECT status, count(*) FROM invocations GROUP BY status",
  "SELECT sum(status = 'completed'), sum(status = 'suspended') FROM invocations",
  "SELECT count(*) FROM invocations WHERE status = 'suspended'",
  "SELECT count(*), sum(CAST(value AS INTEGER)) FROM state WHERE state_key = 'count'",
  "SELECT count(*), sum(CAST(value AS INTEGER)) FROM state WHERE service = 'Obj' AND state_key = 'count'",
  `SELECT * FROM invocations WHERE id = '${formatInvocationId(0, `k${String(keys - 1).padStart(20, "0")}`)}'`,
  `SELECT * FROM journal WHERE invocation_id = '${formatInvocationId(0, `k${String(7).padStart(20, "0")}`)}'`,
  "SELECT count(*) FROM state WHERE service = 'Obj' AND key = 'key-7'",
  "SELECT kind, count(*) FROM journal GROUP BY kind",
];

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-query-bench-"));
  const store = await new SqliteStateStores(dir).open(0, 1);
  applyInBatches(store, counterRecords(keys, "count"), BATCH);
  await store.persist();
  store.close();
  const files = [stateFileOf(dir, 0)];
  for (let p = 1; p < partitions; p++) {
    fs.copyFileSync(files[0], stateFileOf(dir, p));
    files.push(stateFileOf(dir, p));
  }
  console.log(`${keys * partitions} invocations in ${partitions} files`);
  const none = function* () {};
  for (const sql of QUERIES) {
    const times = [];
    let json = "";
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      json = await runQueryInProcess(sql, none, undefined, { files }).catch((e) => `${e.code}: ${e.message}`);
      times.push(performance.now() - started);
    }
    const cpu = process.cpuUsage();
    const empty = { invocations: [], journal: [], state: [] };
    runReadOnlyQuery(sql, empty, { maxRows: 1000, maxMs: 600_000 }, { files });
    const { user, system } = process.cpuUsage(cpu);
    console.log(
      `${times.map((t) => t.toFixed(0)).join("/")} ms, cpu ${((user + system) / 1000).toFixed(0)} ms  ` +
        `${sql.slice(0, 90)}  → ${json.slice(0, 80)}`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
})();
