/**
 * Child of the state-commit crash test: one partition processor on the real stores (SQLite log with
 * its writer thread, SQLite state file) appending `patch-state` records from several loops, printing
 * "<key> <value>" for each once its append resolved (durable in the log and applied). Its state store
 * kills the process with SIGKILL at its `killAt`-th commit after recovery: before that commit (the
 * batch is durable in the log, not in the state file) or right after it (in the state file, nobody
 * told).
 *
 * Usage: node -r ./swc-register.js state-commit-child.ts <dataDir> <before|after> <killAt>
 */
import type { Effect } from "../../../runtime/src/core/effects";
import { systemClock } from "../../../runtime/src/core/clock";
import { PartitionProcessor } from "../../../runtime/src/partition/partition-processor";
import type { PartitionStateStores } from "../../../runtime/src/storage/partition-state-store";
import { SqliteLogStore } from "../../../runtime/src/storage/sqlite-log-store";
import { SqliteStateStores } from "../../../runtime/src/storage/sqlite-state-store";
import { STATE_COMMIT_KEYS, STATE_COMMIT_SERVICE } from "./state-commit-protocol";

const LOOPS = 8;

function die(): never {
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable: SIGKILL sent to self");
}

async function main(): Promise<void> {
  const [dataDir, mode, killAtArg] = process.argv.slice(2);
  const killAt = Number(killAtArg);
  if (!dataDir || (mode !== "before" && mode !== "after") || !Number.isInteger(killAt)) {
    throw new Error("usage: state-commit-child.ts <dataDir> <before|after> <killAt>");
  }
  const log = SqliteLogStore.open(dataDir, { writer: "thread" });
  const real = new SqliteStateStores(dataDir);
  let armed = false;
  let commits = 0;
  const stores: PartitionStateStores = {
    async open(partition, partitions) {
      const handle = await real.open(partition, partitions);
      const commit = handle.commit.bind(handle);
      handle.commit = (writes) => {
        const crash = armed && ++commits === killAt;
        if (crash && mode === "before") die();
        commit(writes);
        if (crash) die();
      };
      return handle;
    },
  };
  const sink = {
    onEffects: (_p: number, _e: Effect[]) => undefined,
    onFenced: (_p: number, reason: string) => process.stderr.write(`fenced: ${reason}\n`),
    onWarning: () => undefined,
  };
  const processor = new PartitionProcessor(0, 1, log, stores, systemClock, sink);
  await processor.recover(1);
  armed = true;
  const loop = async (first: number): Promise<void> => {
    for (let value = first; ; value += LOOPS) {
      const key = String(value % STATE_COMMIT_KEYS);
      await processor.append({
        kind: "patch-state",
        service: STATE_COMMIT_SERVICE,
        key,
        set: { n: String(value) },
        clear: [],
        clearAll: false,
      });
      // stdout to a pipe is synchronous on Linux: once written, the parent can see it.
      process.stdout.write(`${key} ${value}\n`);
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i + 1)));
}

main().catch((e: unknown) => {
  process.stderr.write(
    `state-commit child failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
