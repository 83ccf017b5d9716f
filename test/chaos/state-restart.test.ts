/**
 * Partition state on disk survives a SIGKILL exactly: many object keys and their retained completed
 * invocations are written through the ingress of a runtime child process, which is then killed and
 * started again on the same data directory. Every key's value and the number of retained invocations
 * must be exactly what the acknowledged requests made them (counts, not timings).
 */
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createEndpoint, object } from "@capstan/sdk";
import { createHttpHandler } from "@capstan/sdk/http";
import { AdminClient } from "./support/admin-client";
import { killAllRuntimeProcesses, startRuntimeProcess } from "./support/runtime-process";

const PARTITIONS = 8;
/** Enough keys that every partition holds many, small enough for a 2-core CI machine. */
const KEYS = 600;
/** Each key is added to this many times: one retained completed invocation each. */
const ADDS_PER_KEY = 2;
const CLIENTS = 16;
const START_TIMEOUT_MS = 20_000;
const KILL_TIMEOUT_MS = 5_000;

const tally = object({
  name: "Tally",
  handlers: {
    add: async (ctx, amount: number) => {
      const total = ((await ctx.get<number>("total")) ?? 0) + amount;
      ctx.set("total", total);
      return total;
    },
  },
});

/** What key `k` adds on each call: distinct per key, so a value from another key cannot pass. */
const amountOf = (k: number): number => (k % 13) + 1;

describe("partition state on disk across a SIGKILL", () => {
  let dataDir: string;
  let server: Server;
  let handlerUrl: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-state-restart-"));
    server = createServer(createHttpHandler(createEndpoint(tally)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    handlerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    killAllRuntimeProcesses();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test("keeps every key's value and every retained invocation exactly", async () => {
    // Prepare: a runtime with the deployment registered, filled through the ingress.
    const first = await startRuntimeProcess(dataDir, PARTITIONS, START_TIMEOUT_MS);
    await new AdminClient(first.ready.adminUrl, dataDir).registerDeployment(handlerUrl);
    const calls = Array.from({ length: KEYS * ADDS_PER_KEY }, (_, i) => i % KEYS);
    const answers = new Map<number, number[]>();
    const worker = async (): Promise<void> => {
      for (let k = calls.shift(); k !== undefined; k = calls.shift()) {
        const res = await fetch(`${first.ready.ingressUrl}/Tally/key-${k}/add`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(amountOf(k)),
        });
        expect(res.status).toBe(200);
        answers.set(k, [...(answers.get(k) ?? []), (await res.json()) as number]);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, worker));

    // Act: kill, start again on the same directory.
    await first.kill(KILL_TIMEOUT_MS);
    const second = await startRuntimeProcess(dataDir, PARTITIONS, START_TIMEOUT_MS);
    const admin = new AdminClient(second.ready.adminUrl, dataDir);

    // Assert: each key holds exactly its adds, as acknowledged, and every invocation is retained.
    for (let k = 0; k < KEYS; k++) {
      const expected = amountOf(k) * ADDS_PER_KEY;
      expect([...(answers.get(k) ?? [])].sort((a, b) => a - b)).toEqual([amountOf(k), expected]);
      expect(await admin.state("Tally", `key-${k}`)).toEqual({ total: expected });
    }
    expect(await admin.query("SELECT status, count(*) FROM invocations GROUP BY status")).toEqual([
      ["completed", KEYS * ADDS_PER_KEY],
    ]);
    // And it serves: one more add continues from the stored value.
    const res = await fetch(`${second.ready.ingressUrl}/Tally/key-7/add`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(1),
    });
    expect(await res.json()).toBe(amountOf(7) * ADDS_PER_KEY + 1);
    await second.kill(KILL_TIMEOUT_MS);
  }, 120_000);
});
