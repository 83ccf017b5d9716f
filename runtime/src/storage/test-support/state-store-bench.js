// Micro-benchmark of the partition state stores (not a test): applies `keys` counter requests — an
// `invoke` of an exclusive object handler and its completing `entries` record (setState + output),
// retained as a completed invocation — in batches of `batch` records through `applyBatch`, once into
// the in-memory store and once into a SQLite state file. Prints µs per record, the heap and RSS after
// a GC, the state file's bytes per key and how long the final persist() took.
// Usage: node --expose-gc runtime/src/storage/test-support/state-store-bench.js [keys=50000] [batch=64] [stores=memory,sqlite]
"use strict";
require("./register-ts.js");
const { applyInBatches, counterRecords } = require("./counter-records.js");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { performance } = require("node:perf_hooks");
const src = path.join(__dirname, "..", "..");
const { MemoryStateStore } = require(path.join(src, "core", "memory-state-store.ts"));
const { emptyPartitionState } = require(path.join(src, "core", "state.ts"));
const { SqliteStateStores, stateFileOf } = require(path.join(src, "storage", "sqlite-state-store.ts"));

const [keys = 50_000, batch = 64] = process.argv.slice(2, 4).map(Number);
const stores = (process.argv[4] ?? "memory,sqlite").split(",");

async function run(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-state-bench-"));
  const store =
    name === "memory"
      ? new MemoryStateStore(emptyPartitionState(0, 1))
      : await new SqliteStateStores(dir).open(0, 1);
  global.gc?.();
  const before = process.memoryUsage();
  const started = performance.now();
  applyInBatches(store, counterRecords(keys, "n"), batch);
  const elapsedMs = performance.now() - started;
  // One persist (WAL checkpoint + fsync, on the event loop in the runtime) after keys × 2 records:
  // 10,000 keys are the runtime's SNAPSHOT_EVERY_RECORDS (20,000) of one partition.
  const persistStarted = performance.now();
  if (name === "sqlite") await store.persist();
  const persistMs = performance.now() - persistStarted;
  global.gc?.();
  const after = process.memoryUsage();
  const fileBytes = name === "sqlite" ? fs.statSync(stateFileOf(dir, 0)).size : 0;
  console.log(
    `${name}: ${keys} keys, ${((elapsedMs * 1000) / (2 * keys)).toFixed(1)} µs/record, ` +
      `heap +${((after.heapUsed - before.heapUsed) / 1e6).toFixed(1)} MB, ` +
      `rss +${((after.rss - before.rss) / 1e6).toFixed(1)} MB` +
      (fileBytes > 0
        ? `, file ${(fileBytes / 1e6).toFixed(1)} MB (${Math.round(fileBytes / keys)} B/key), ` +
          `persist ${persistMs.toFixed(1)} ms`
        : ""),
  );
  if (name === "sqlite") store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

(async () => {
  for (const name of stores) await run(name);
})();
