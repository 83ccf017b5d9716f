/**
 * Guarantee 7: a stale leader cannot write. Two runtimes opened on one data directory: the one that
 * started second claimed the partition (a higher fence epoch) and leads; the first one's next append
 * is refused by the log's fence, it stops leading that partition, refuses the request and reports
 * itself failed — nothing it did after being superseded lands.
 * The data directory's lock refuses a second runtime in normal use (node.test.ts); the second one here
 * goes without it, to prove the log's own fence, which holds where a file lock cannot (the DynamoDB log).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { counter } from "./support/counter";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

describe("fencing", () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-fencing-"));
  let first: TestEnvironment;
  let second: TestEnvironment;
  beforeAll(async () => {
    first = await startTestEnvironment({ services: [counter], dataDir, partitions: 1 });
    await first.call("Counter", "add", 1, { key: "k" });
    second = await startTestEnvironment({ services: [counter], dataDir, partitions: 1, lockDataDir: false });
  });
  afterAll(async () => {
    await second.close();
    await first.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("the superseded runtime cannot write and says so; the new leader carries on", async () => {
    await expect(first.call("Counter", "add", 100, { key: "k" })).rejects.toMatchObject({
      code: "RUNTIME_PARTITION_UNAVAILABLE",
    });
    expect(first.runtime.health()).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("STORE_LOG_FENCED"),
    });
    // Over HTTP the stopped partition answers its own code with a retry hint, not "overloaded".
    const refused = await fetch(`${first.ingressUrl}/Counter/k/add`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "100",
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect(await refused.json()).toMatchObject({ code: "RUNTIME_PARTITION_UNAVAILABLE" });
    await expect(second.call("Counter", "add", 1, { key: "k" })).resolves.toBe(2);
    expect(await second.state("Counter", "k")).toEqual({ count: 2 });
  });
});
