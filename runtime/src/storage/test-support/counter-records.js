// What the state-store micro-benchmarks (state-store-bench.js, query-files-bench.js) fill a store
// with: `keys` counter requests — an `invoke` of an exclusive object handler and its completing
// `entries` record (getState, setState of `stateKey` to "1", output "1"), retained as a completed
// invocation — applied through `applyBatch` in batches, as a partition's processor applies them.
"use strict";
require("./register-ts.js");
const path = require("node:path");
const { formatInvocationId } = require("@capstan/sdk/protocol");
const src = path.join(__dirname, "..", "..");
const { applyBatch } = require(path.join(src, "core", "apply.ts"));
const { exclusive } = require(path.join(src, "core", "test-support", "builders.ts"));

/** The 2 × `keys` records, in order (invocation `k<20-digit k>` on partition 0, object key `key-<k>`). */
function* counterRecords(keys, stateKey) {
  for (let k = 0; k < keys; k++) {
    const id = formatInvocationId(0, `k${String(k).padStart(20, "0")}`);
    yield { kind: "invoke", invocation: exclusive(id, `key-${k}`, { retentionMs: 3_600_000 }), atMs: k };
    yield {
      kind: "entries",
      invocationId: id,
      attempt: 1,
      entries: [
        { index: 1, kind: "getState", key: stateKey, result: { kind: "empty" } },
        { index: 2, kind: "setState", key: stateKey, value: "1" },
      ],
      outcome: { kind: "completed", value: "1" },
      atMs: k,
    };
  }
}

/** Applies `records` to `store` in batches of `batch` (the last one shorter), from LSN 1. */
function applyInBatches(store, records, batch) {
  let lsn = 1;
  let pending = [];
  for (const record of records) {
    pending.push(record);
    if (pending.length === batch) {
      applyBatch(store, lsn, pending);
      lsn += pending.length;
      pending = [];
    }
  }
  if (pending.length > 0) applyBatch(store, lsn, pending);
}

module.exports = { counterRecords, applyInBatches };
