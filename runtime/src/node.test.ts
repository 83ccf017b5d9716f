import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MemoryMembershipStore } from "./cluster/memory-membership-store";
import { PEER_CALL_PATH } from "./cluster/peer-protocol";
import { HttpInvoker } from "./invoker/http-invoker";
import { ConfigError, type StateStoreKind } from "./config/config";
import { startRuntimeNode } from "./node";
import { PartitionCountMismatchError } from "./partition/partition-count";
import { DataDirInUseError } from "./storage/data-dir-lock";
import { InMemoryLogStore } from "./storage/in-memory-log-store";
import { InMemoryPartitionStore } from "./storage/in-memory-partition-store";
import { PARTITIONS_DIR_NAME } from "./storage/sqlite-state-store";

describe("a runtime node and its data directory", () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-node-"))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const start = (partitions: number, stateStore?: StateStoreKind) =>
    startRuntimeNode({
      dataDir,
      ...(stateStore !== undefined && { stateStore }),
      partitions,
      host: "127.0.0.1",
      ingressPort: 0,
      adminPort: 0,
      checkpointPort: 0,
      invoker: new HttpInvoker({}),
      log: () => undefined,
    });

  test("another count is refused with the stored one named; the stored one still starts", async () => {
    await (await start(4)).close();
    const refused = await start(8).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PartitionCountMismatchError);
    expect((refused as Error).message).toContain("created with 4 partitions, not 8");
    expect((refused as Error).message).toContain("CAPSTAN_PARTITIONS=4");
    const node = await start(4);
    expect(node.runtime.health().partitions).toBe(4);
    await node.close();
  });

  test("state in memory writes no state files; once they exist, memory is refused", async () => {
    const stateDir = path.join(dataDir, PARTITIONS_DIR_NAME);
    await (await start(2, "memory")).close();
    expect(existsSync(stateDir)).toBe(false);
    await (await start(2, "sqlite")).close();
    expect(readdirSync(stateDir).length).toBeGreaterThan(0);
    const refused = await start(2, "memory").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain("CAPSTAN_STATE_STORE=sqlite");
    // The refusal released the data directory.
    await (await start(2)).close();
  });

  test("a second node on a data directory in use is refused; the first keeps serving", async () => {
    const first = await start(4);
    try {
      const refused = await start(4).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DataDirInUseError);
      const health = await fetch(`${first.adminUrl}/health`);
      expect(health.status).toBe(200);
    } finally {
      await first.close();
    }
    // Closing releases the directory.
    await (await start(4)).close();
  });

  test("the admin token is generated on first start, kept across restarts, and required", async () => {
    const first = await start(4);
    const token = first.adminToken;
    const identity = first.identityPublicKey;
    await first.close();
    const node = await start(4);
    try {
      expect([node.adminToken, node.identityPublicKey]).toEqual([token, identity]);
      expect(readFileSync(path.join(dataDir, "admin-token"), "utf8").trim()).toBe(token);
      const without = await fetch(`${node.adminUrl}/deployments`);
      expect(without.status).toBe(401);
      const withToken = await fetch(`${node.adminUrl}/deployments`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(withToken.status).toBe(200);
      // Handlers reach the checkpoint listener only: admin is not served there.
      expect((await fetch(`${node.checkpointUrl}/deployments`)).status).toBe(404);
      expect(node.checkpointUrl).not.toBe(node.adminUrl);
    } finally {
      await node.close();
    }
  });
});

describe("a node of a cluster", () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-node-cluster-"))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  test("a close whose hand-over fails still closes the peer listener and the stores", async () => {
    let storesClosed = false;
    const node = await startRuntimeNode({
      stores: {
        logStore: new InMemoryLogStore(),
        partitionStore: new InMemoryPartitionStore(),
        close: async () => {
          storesClosed = true;
        },
      },
      cluster: {
        membership: new MemoryMembershipStore(),
        leaseDurationMs: 1_000,
        peerPort: 0,
        clusterKey: randomBytes(32),
      },
      nodeId: "node-a",
      dataDir,
      partitions: 2,
      host: "127.0.0.1",
      ingressPort: 0,
      adminPort: 0,
      checkpointPort: 0,
      invoker: new HttpInvoker({}),
      log: () => undefined,
    });
    // Listening: an unsigned request is refused, not unanswered.
    expect((await fetch(`${node.peerUrl}${PEER_CALL_PATH}`, { method: "POST" })).status).toBe(401);
    const leave = jest.spyOn(node.runtime, "leave").mockRejectedValue(new Error("the store went away"));
    try {
      await expect(node.close()).rejects.toThrow("the store went away");
      expect(storesClosed).toBe(true);
      const after = await fetch(`${node.peerUrl}${PEER_CALL_PATH}`, { method: "POST" }).catch(
        (e: unknown) => e,
      );
      // Connection refused: nothing listens there any more.
      expect((after as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
    } finally {
      leave.mockRestore();
      await node.runtime.stop();
    }
  });
});
