// Child process of the crash test: appends through the real SqliteLogStore with its writer thread
// (TypeScript compiled on the fly, see register-ts.js) and prints "partition lsn" for every append only
// after its promise resolved, i.e. after the writer thread's group commit was fsync'd. The parent
// SIGKILLs the process (both threads) at a random moment.
// Usage: node crash-writer.js <dataDir> <partitions>
"use strict";
require("./register-ts.js");
const path = require("node:path");

const { SqliteLogStore } = require(path.join(__dirname, "..", "sqlite-log-store.ts"));

const [dataDir, partitionsArg] = process.argv.slice(2);
const partitions = Number(partitionsArg);
const store = SqliteLogStore.open(dataDir, { writer: "thread" });

// Each partition appends in its own loop, so appends of many partitions share commits.
async function writer(partition) {
  for (let lsn = 1; ; lsn++) {
    await store.append(partition, lsn, [{ partition, lsn, pad: "x".repeat(lsn % 200) }]);
    // stdout to a pipe is synchronous on Linux: once written, the parent can see it.
    process.stdout.write(`${partition} ${lsn}\n`);
  }
}
for (let p = 0; p < partitions; p++) {
  writer(p).catch((e) => {
    process.stderr.write(`writer ${p} failed: ${e && e.stack}\n`);
    process.exit(1);
  });
}
