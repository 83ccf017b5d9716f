/**
 * The crash suite, run on each store: the runtime, in a child process, is killed with SIGKILL at
 * seeded random moments under load and restarted on the same data; the handlers run in the test
 * process, so every side effect is observed. The oracle (oracle.ts) then checks DESIGN.md §6 against
 * the final state: nothing acknowledged is lost, object updates are exactly once and atomic with
 * their sends, recorded steps never re-run, one exclusive handler per key, same idempotency key →
 * same invocation and result, timers never early, nothing stuck.
 */
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createEndpoint } from "@capstan/sdk";
import { createHttpHandler } from "@capstan/sdk/http";
import { AdminClient, UNFINISHED_STATUSES } from "./admin-client";
import { chaosServices } from "./chaos-services";
import { HandlerObserver } from "./handler-observer";
import { LoadDriver } from "./load-driver";
import { checkAll, formatViolations } from "./oracle";
import { between, prng } from "./prng";
import {
  ADMIN_TOKEN_FILE,
  ATTEMPT_KEY_FILE,
  IDENTITY_KEY_FILE,
} from "../../../runtime/src/security/node-credentials";
import {
  killAllRuntimeProcesses,
  startAndKillRuntimeProcess,
  startRuntimeProcess,
  type RuntimeProcess,
} from "./runtime-process";

export interface CrashSuiteOptions {
  title: string;
  /** The test file, for the command that reproduces a run. */
  testPath: string;
  /** Kills per run unless CAPSTAN_CHAOS_KILLS says otherwise. */
  defaultKills: number;
  /** Added to the test's timeout (e.g. for a store that starts slower). */
  extraTimeoutMs?: number;
  /** Environment of every runtime child (its store settings). */
  childEnv?: () => NodeJS.ProcessEnv;
  /**
   * Every other restart (the 1st, 3rd, …) on a new, empty data directory holding only the cluster's
   * credentials, as when the partitions move to another node: only for stores that keep the log and
   * snapshots outside the data directory (DynamoDB and S3).
   */
  emptyDataDirRestarts?: boolean;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

const PARTITIONS = 8;
const WORKERS = 16;
/** New logical requests per round, so a fast machine does not build an unbounded backlog. */
const MAX_NEW_PER_ROUND = 400;
const LOAD_MS = { min: 250, max: 1_200 };
/** Share of rounds killed within RECOVERY_KILL_MS of the restart, while recovery re-drives attempts. */
const RECOVERY_KILL_SHARE = 0.25;
const RECOVERY_KILL_MS = { min: 0, max: 150 };
/** Share of restarts preceded by a child killed STARTUP_KILL_MS after its spawn, ready or not. */
const STARTUP_KILL_SHARE = 0.3;
/** Node start and compiling take ~300 ms on 2 cores, recovery ~50–200 ms after that. */
const STARTUP_KILL_MS = { min: 150, max: 600 };
const FINAL_LOAD_MS = 800;
/** Setup may start a JVM (DynamoDB Local) on a loaded machine. */
const SETUP_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 20_000;
const KILL_TIMEOUT_MS = 5_000;
const DRAIN_MS = 15_000;
const SETTLE_MS = 25_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves `p`, or rejects after `ms` with `what` in the message. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function describeCrashRecovery(options: CrashSuiteOptions): void {
  const SEED = Number(process.env.CAPSTAN_CHAOS_SEED ?? Date.now() % 1_000_000);
  /** CAPSTAN_CHAOS_KILLS raises the number of kills for a longer soak run. */
  const KILLS = Number(process.env.CAPSTAN_CHAOS_KILLS ?? options.defaultKills);
  /** About 10 s per run of 5 kills on 2 cores; generous so a slow CI machine fails on the oracle, not here. */
  const TEST_TIMEOUT_MS = Math.max(90_000, KILLS * 15_000) + (options.extraTimeoutMs ?? 0);
  const REPRO =
    `CAPSTAN_CHAOS_SEED=${SEED}` +
    (KILLS !== options.defaultKills ? ` CAPSTAN_CHAOS_KILLS=${KILLS} ` : " ") +
    `npx jest ${options.testPath}`;

  describe(options.title, () => {
    /** The first incarnation's data directory: its credentials are the cluster's. */
    let dataDir: string;
    /** The data directory of the current incarnation. */
    let nodeDir: string;
    const emptyDirs: string[] = [];
    /** A new data directory with only the cluster's credentials: another node. */
    const emptyDataDir = (): string => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-chaos-node-"));
      emptyDirs.push(dir);
      for (const file of [ADMIN_TOKEN_FILE, ATTEMPT_KEY_FILE, IDENTITY_KEY_FILE]) {
        fs.copyFileSync(path.join(dataDir, file), path.join(dir, file));
      }
      return dir;
    };
    let server: Server;
    let handlerUrl: string;
    let observer: HandlerObserver;
    let current: RuntimeProcess | undefined;

    beforeAll(async () => {
      await options.setup?.();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-chaos-"));
      nodeDir = dataDir;
      observer = new HandlerObserver(prng(SEED ^ 0x5eed));
      const endpoint = createEndpoint(...chaosServices(observer), {
        fetch: observer.fetch,
        logger: observer.logger,
      });
      server = createServer(createHttpHandler(observer.wrap(endpoint)));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      handlerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      killAllRuntimeProcesses();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const dir of [dataDir, ...emptyDirs]) fs.rmSync(dir, { recursive: true, force: true });
      await options.teardown?.();
    }, SETUP_TIMEOUT_MS);

    test(
      `loses nothing acknowledged across ${KILLS} kills (seed ${SEED})`,
      async () => {
        // Prepare: one runtime with the deployment registered (persisted: later incarnations find it).
        process.stderr.write(`chaos seed ${SEED}; reproduce with: ${REPRO}\n`);
        const schedule = prng(SEED);
        const driver = new LoadDriver(prng(SEED + 1));
        const restarts: Array<{
          incarnation: number;
          recoveryMs: number;
          childStartupMs: number;
          retriesPending: number;
        }> = [];
        const killDelays: number[] = [];
        const startupKills: string[] = [];
        const emptyDirRestarts: number[] = [];
        const readyAtMs: number[] = [];
        const adminUrls = new Set<string>();
        const start = async (): Promise<RuntimeProcess> => {
          for (;;) {
            const proc = await startRuntimeProcess(
              nodeDir,
              PARTITIONS,
              START_TIMEOUT_MS,
              options.childEnv?.(),
            );
            // The admin URL names the incarnation for the exclusive-handler check: it must be new.
            if (!adminUrls.has(proc.ready.adminUrl)) {
              adminUrls.add(proc.ready.adminUrl);
              readyAtMs.push(proc.readyAtMs);
              return proc;
            }
            await proc.kill(KILL_TIMEOUT_MS);
          }
        };
        current = await start();
        await new AdminClient(current.ready.adminUrl, dataDir).registerDeployment(handlerUrl);
        const firstRecoveryMs = current.recoveryMs;

        // Act: rounds of load, each ended by a SIGKILL at a seeded moment, then a restart on the same dir.
        const startedAt = Date.now();
        for (let round = 0; round <= KILLS; round++) {
          driver.attach(current.ready.ingressUrl, round);
          const last = round === KILLS;
          const early = round > 0 && schedule() < RECOVERY_KILL_SHARE;
          const window = early ? RECOVERY_KILL_MS : LOAD_MS;
          const loadMs = last ? FINAL_LOAD_MS : between(schedule, window.min, window.max);
          killDelays.push(loadMs);
          const deadline = Date.now() + loadMs;
          const load = driver.run(WORKERS, MAX_NEW_PER_ROUND, () => Date.now() >= deadline);
          if (last) {
            await within(load, loadMs + 15_000, "final load round");
            break;
          }
          await Promise.race([sleep(loadMs), load]);
          driver.detach();
          await current.kill(KILL_TIMEOUT_MS);
          await within(load, 15_000, `load round ${round} after the kill`);
          const retriesPending = driver.pendingRetries;
          if (options.emptyDataDirRestarts === true && round % 2 === 0) {
            nodeDir = emptyDataDir();
            emptyDirRestarts.push(round + 1);
          }
          if (schedule() < STARTUP_KILL_SHARE) {
            const killAfterMs = between(schedule, STARTUP_KILL_MS.min, STARTUP_KILL_MS.max);
            const { wasReady } = await startAndKillRuntimeProcess(
              nodeDir,
              PARTITIONS,
              killAfterMs,
              KILL_TIMEOUT_MS,
              options.childEnv?.(),
            );
            startupKills.push(`${killAfterMs} ms${wasReady ? " (after READY)" : ""}`);
          }
          current = await start();
          restarts.push({
            incarnation: round + 1,
            recoveryMs: Math.round(current.recoveryMs),
            childStartupMs: current.ready.startupMs,
            retriesPending,
          });
        }
        await driver.drainRetries(WORKERS, Date.now() + DRAIN_MS);
        const admin = new AdminClient(current.ready.adminUrl, dataDir);
        const settleDeadline = Date.now() + SETTLE_MS;
        let unfinished = -1;
        while (Date.now() < settleDeadline) {
          const counts = await Promise.all(UNFINISHED_STATUSES.map((s) => admin.invocations(s)));
          unfinished = counts.reduce((n, list) => n + list.length, 0);
          if (unfinished === 0) break;
          await sleep(100);
        }
        const loadSeconds = (Date.now() - startedAt) / 1000;

        // Assert: the exact oracle.
        const { checks, steps } = await checkAll(admin, driver.requests, observer, current.ready.ingressUrl);

        const acked = driver.requests.filter((r) => r.ack);
        const report = [
          `chaos seed ${SEED}: ${driver.requests.length} requests (${acked.length} acknowledged, ` +
            `${acked.filter((r) => r.attempts > 1).length} only after a retry across a restart, ` +
            `${driver.requests.filter((r) => !r.ack).length} unacknowledged one-way sends without key) in ${loadSeconds.toFixed(1)} s`,
          `kills ${KILLS} after ${killDelays.slice(0, KILLS).join("/")} ms of load, plus ${startupKills.length} ` +
            `during startup (${startupKills.join(", ")}); restarts ${restarts.length + startupKills.length}; ` +
            `first start ${Math.round(firstRecoveryMs)} ms; per restart (spawn→ready ms / in-child start+recovery ms / ` +
            `ready→first ack ms / idempotent requests awaiting retry): ` +
            restarts
              .map((r) => {
                const firstAck = driver.firstAckAtMs.get(r.incarnation);
                const ready = readyAtMs[r.incarnation];
                const toAck = firstAck !== undefined && ready !== undefined ? firstAck - ready : "-";
                return `${r.recoveryMs}/${r.childStartupMs}/${toAck}/${r.retriesPending}`;
              })
              .join(", "),
          ...(options.emptyDataDirRestarts === true
            ? [`restarts on an empty data directory: ${emptyDirRestarts.join(", ") || "none"}`]
            : []),
          `handler attempts ${observer.attempts}, step executions ${observer.executions.length} ` +
            `(${steps.reExecutionsBeforeDurable} re-runs before durability, ` +
            `${steps.reExecutionsSameRuntime} of them by the same runtime incarnation), checkpoint acks ` +
            `${observer.checkpointAcks}, failed checkpoints ${observer.checkpointFailures}, SDK warnings ` +
            `${observer.sdkWarnings}, wake-ups ${observer.wakes.length}`,
          ...checks.map((c) => `${c.violations.length === 0 ? "✓" : "✗"} ${c.name}: ${c.verified} verified`),
        ].join("\n");
        process.stderr.write(`${report}\n`);

        const failures = formatViolations(checks);
        if (failures !== "" || unfinished !== 0) {
          throw new Error(
            `crash test failed (seed ${SEED}); reproduce with: ${REPRO}\n` +
              (unfinished !== 0
                ? `${unfinished} invocation(s) still unfinished after ${SETTLE_MS} ms\n`
                : "") +
              `${failures}\n${report}\n--- runtime stderr (tail) ---\n${current.stderrTail().slice(-3_000)}`,
          );
        }
      },
      TEST_TIMEOUT_MS,
    );
  });
}
