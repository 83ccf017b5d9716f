/**
 * Joining a cluster: a node whose first tick loses a takeover race (another node claimed the
 * partition while this one loaded it) has joined all the same; only a tick that could not read the
 * cluster fails the start. A real SQLite log store holds the fences.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SqliteLogStore } from "../storage/sqlite-log-store";
import { ManualClock } from "../testing/manual-clock";
import { ClusterMember } from "./cluster-member";
import type { MembershipStore } from "./membership-store";
import { MemoryMembershipStore } from "./memory-membership-store";

const PARTITIONS = 4;

let dir: string;
let log: SqliteLogStore;
const members: ClusterMember[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-cluster-member-"));
  log = SqliteLogStore.open(dir, { writer: "inline" });
});

afterEach(async () => {
  for (const m of members.splice(0)) m.stop();
  await log.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function member(membership: MembershipStore, onAcquired: (p: number) => Promise<void>, warnings: string[]) {
  const m = new ClusterMember({
    node: { nodeId: "node-a", address: "http://node-a", pid: 1 },
    partitions: PARTITIONS,
    leaseDurationMs: 10_000,
    membership,
    fences: log,
    leader: { onAcquired, onReleasing: async () => undefined },
    log: (message, level) => {
      if (level === "warn") warnings.push(String(message));
    },
    clock: new ManualClock(0),
  });
  members.push(m);
  return m;
}

test("a takeover fenced while loading does not fail the join; its claim is given up", async () => {
  const warnings: string[] = [];
  const m = member(
    new MemoryMembershipStore(),
    async (p) => {
      if (p === 2) throw Object.assign(new Error("partition 2 is fenced"), { code: "STORE_LOG_FENCED" });
    },
    warnings,
  );

  await m.join();

  expect(m.joined).toBe(true);
  expect(warnings.some((w) => w.includes("partition 2 is fenced"))).toBe(true);
  expect((await log.fence(2)).owner).toBeUndefined();
  for (const p of [0, 1, 3]) expect((await log.fence(p)).owner).toBe("node-a");
});

test("a first tick that cannot read the membership fails the join", async () => {
  const unreachable: MembershipStore = Object.assign(new MemoryMembershipStore(), {
    heartbeat: async () => {
      throw new Error("membership table unreachable");
    },
  });
  const m = member(unreachable, async () => undefined, []);

  await expect(m.join()).rejects.toThrow("membership table unreachable");
  expect(m.joined).toBe(false);
});
