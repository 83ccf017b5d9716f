// Micro-benchmark of SqliteLogStore's group commit (not a test): N concurrent "clients" each append
// one record to their own partition and await it, in a loop, for a fixed time; once with the inline
// writer (commit + fsync on the main thread) and once with the writer thread.
// `workUs` burns that much main-thread CPU after each acknowledged append (applying the record).
// Meanwhile a background task burns 50 µs slices in its own event-loop tasks, standing in for the
// runtime's work that does not wait for the log (parsing requests, talking to handlers): the share of
// time it gets is what the fsync no longer takes from the event loop.
// Usage: node runtime/src/storage/test-support/log-store-bench.js [clients=32] [seconds=3] [workUs=0] [modes=inline,thread]
"use strict";
require("./register-ts.js");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { performance } = require("node:perf_hooks");
const { SqliteLogStore } = require(path.join(__dirname, "..", "sqlite-log-store.ts"));

const [clientsArg = "32", secondsArg = "3", workUsArg = "0", modesArg = "inline,thread"] =
  process.argv.slice(2);
const clients = Number(clientsArg);
const durationMs = Number(secondsArg) * 1000;
const workUs = Number(workUsArg);

function burn(us) {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

async function run(writer) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-bench-"));
  const store = SqliteLogStore.open(dir, { writer });
  // Warm up (starts the writer thread) outside the measured window.
  await store.append(clients, 1, [{ warmup: true }]);
  const before = store.stats();
  const elu0 = performance.eventLoopUtilization();
  const started = performance.now();
  const deadline = started + durationMs;
  let backgroundSlices = 0;
  async function background() {
    while (performance.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
      burn(50);
      backgroundSlices++;
    }
  }
  const record = { kind: "step", payload: "x".repeat(200) };
  async function client(partition) {
    for (let lsn = 1; performance.now() < deadline; lsn++) {
      await store.append(partition, lsn, [{ ...record, lsn }]);
      // Each client goes on in its own task, as requests arriving on separate sockets do.
      await new Promise((resolve) => setImmediate(resolve));
      if (workUs > 0) burn(workUs);
    }
  }
  await Promise.all([background(), ...Array.from({ length: clients }, (_, p) => client(p))]);
  const elapsedS = (performance.now() - started) / 1000;
  const elu = performance.eventLoopUtilization(elu0);
  const after = store.stats();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const appends = after.appends - before.appends;
  const commits = after.commits - before.commits;
  return {
    writer,
    appendsPerS: Math.round(appends / elapsedS),
    appendsPerCommit: Number((appends / commits).toFixed(1)),
    commitsPerS: Math.round(commits / elapsedS),
    mainThreadBusy: `${Math.round(elu.utilization * 100)}%`,
    backgroundShare: `${Math.round((backgroundSlices * 0.05) / (elapsedS * 10))}%`,
  };
}

(async () => {
  console.log(`${clients} clients, ${durationMs / 1000} s, ${workUs} µs of main-thread work per append`);
  for (const mode of modesArg.split(",")) console.log(JSON.stringify(await run(mode)));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
