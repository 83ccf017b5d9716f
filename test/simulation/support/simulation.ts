/**
 * One seeded run of the simulation (TigerBeetle's VOPR idea, on Capstan's runtime): the real Runtime
 * over in-memory stores, a manual clock, the crash test's handlers with seeded behaviour (steps that
 * sometimes fail, sleeps, calls, sends, object updates), seeded clients that retry idempotent
 * requests, and seeded crashes (some during recovery) followed by restarts on what the stores made
 * durable. Every decision comes from the seed, one event-loop turn per step; at the end the crash
 * test's oracle judges the outcome.
 */
import { createEndpoint } from "@capstan/sdk";
import { startIngressServer } from "../../../runtime/src/server/ingress-server";
import { MemoryLogDisk } from "../../../runtime/src/storage/in-memory-log-store";
import { MemoryPartitionDisk } from "../../../runtime/src/storage/in-memory-partition-store";
import { InProcessInvoker } from "../../../runtime/src/testing/in-process-invoker";
import { ManualClock } from "../../../runtime/src/testing/manual-clock";
import { UNFINISHED_STATUSES } from "../../chaos/support/admin-client";
import { chaosServices } from "../../chaos/support/chaos-services";
import { HandlerObserver } from "../../chaos/support/handler-observer";
import type { RequestKind } from "../../chaos/support/load-driver";
import { checkAll, formatViolations, type CheckResult } from "../../chaos/support/oracle";
import { between, prng } from "../../chaos/support/prng";
import { CheckpointTransport } from "./checkpoint-transport";
import { InProcessAdmin } from "./in-process-admin";
import { SimulatedClient } from "./simulated-client";
import { seedRandomFill } from "./seeded-crypto";
import { SimulatedNode, type NodeSettings, type SimulatedDisks } from "./simulated-node";

/** The load of the simulation: the crash test's kinds plus a handler-to-handler call. */
const SIM_WEIGHTS: Array<[RequestKind, number]> = [
  ["counter", 30],
  ["steps-call", 10],
  ["caller-call", 10],
  ["tally-send", 15],
  ["steps-send", 10],
  ["nap-send", 15],
  ["delayed-send", 10],
];

export interface SimulationOptions {
  /** Event-loop turns with load, crashes and clock moves. */
  steps: number;
  /** At most this many crashes per run (each may be followed by one during recovery). */
  maxCrashes: number;
  partitions: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = { steps: 3_000, maxCrashes: 8, partitions: 4 };

/**
 * Per step: the chance of each action (the rest of the time the step only lets a turn pass). Crashes
 * come at seeded steps spread over the run instead.
 */
const P_NEW_REQUEST = 0.08;
const P_RETRY = 0.04;
const P_CLOCK = 0.1;
/** Share of crashes that hit the next incarnation again during its recovery, within some turns. */
const P_CRASH_IN_RECOVERY = 0.3;
const MAX_TURNS_BEFORE_RECOVERY_CRASH = 12;
const MAX_CLIENT_IN_FLIGHT = 24;
const MAX_CLOCK_STEP_MS = 120;
/** Share of instrumented step executions that fail (retried by the runtime after a backoff). */
const STEP_FAILURE_RATE = 0.05;
/** Turns the drain phase may take before what is left counts as stuck. */
const MAX_DRAIN_STEPS = 200_000;
const START_EPOCH_MS = 1_767_225_600_000;
const COMPLETED_RETENTION_MS = 24 * 3_600_000;

export interface SimulationResult {
  seed: number;
  checks: CheckResult[];
  /** Empty when every guarantee held. */
  failures: string;
  report: string;
  steps: number;
}

async function hasUnfinished(node: SimulatedNode): Promise<boolean> {
  for (const status of UNFINISHED_STATUSES) {
    if ((await node.runtime.listInvocations({ status, limit: 1 })).length > 0) return true;
  }
  return false;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function pauseTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

export async function runSimulation(
  seed: number,
  options: SimulationOptions = DEFAULT_SIMULATION,
): Promise<SimulationResult> {
  const schedule = prng(seed);
  const restoreRandomFill = seedRandomFill(prng(seed ^ 0x1d5));
  try {
    return await simulate(seed, schedule, options);
  } finally {
    restoreRandomFill();
  }
}

async function simulate(
  seed: number,
  schedule: () => number,
  options: SimulationOptions,
): Promise<SimulationResult> {
  const clock = new ManualClock(START_EPOCH_MS);
  const transport = new CheckpointTransport();
  const observer = new HandlerObserver(prng(seed ^ 0x5eed), {
    nowMs: () => clock.nowMs(),
    pause: pauseTurns,
    fetch: transport.fetch,
    stepFailureRate: STEP_FAILURE_RATE,
  });
  const endpoint = createEndpoint(...chaosServices(observer), {
    fetch: observer.fetch,
    logger: observer.logger,
  });
  // No time left in any attempt: the SDK suspends at every wait, the runtime resumes it on the clock.
  const invoker = new InProcessInvoker(() => 0);
  const deployment = invoker.add("chaos", observer.wrap(endpoint));
  const disks: SimulatedDisks = { log: new MemoryLogDisk(), partition: new MemoryPartitionDisk() };
  const settings: NodeSettings = {
    partitions: options.partitions,
    clock,
    invoker,
    completedRetentionMs: COMPLETED_RETENTION_MS,
  };
  const client = new SimulatedClient(prng(seed + 1), SIM_WEIGHTS, () => clock.nowMs());
  let incarnation = 0;
  const boot = (): SimulatedNode => {
    const node = new SimulatedNode(incarnation++, disks, settings);
    transport.attach(node);
    return node;
  };

  let node = boot();
  await node.started;
  await node.runtime.registerDeployment(deployment, { force: true });

  // Act: seeded load, clock moves and crashes, one event-loop turn per step.
  const crashAt = new Set(
    Array.from({ length: between(schedule, 1, options.maxCrashes) }, () =>
      between(schedule, 1, options.steps),
    ),
  );
  const crashes: string[] = [];
  const startedMs = performance.now();
  let steps = 0;
  let crashDue = false;
  for (; steps < options.steps; steps++) {
    // A crash comes at its seeded step, or at the first busy turn after it: one while nothing is in
    // flight tests little.
    crashDue ||= crashAt.has(steps);
    if (crashDue && !node.quiet) {
      crashDue = false;
      node.crash();
      crashes.push(`step ${steps}`);
      node = boot();
      if (schedule() < P_CRASH_IN_RECOVERY) {
        const afterTurns = between(schedule, 0, MAX_TURNS_BEFORE_RECOVERY_CRASH);
        await pauseTurns(afterTurns);
        node.crash();
        crashes.push(`step ${steps} +${afterTurns} turns (recovering)`);
        node = boot();
      }
    }
    const r = schedule();
    if (r < P_NEW_REQUEST) {
      if (client.inFlight < MAX_CLIENT_IN_FLIGHT) client.sendNew(node);
    } else if (r < P_NEW_REQUEST + P_RETRY) {
      client.retry(node);
    } else if (r < P_NEW_REQUEST + P_RETRY + P_CLOCK) {
      clock.advanceBy(between(schedule, 1, MAX_CLOCK_STEP_MS));
      node.runtime.timers.fireDue();
    }
    await turn();
  }

  // Drain: the last incarnation recovers; clients retry until acknowledged; time skips to each next
  // timer whenever nothing else can happen, until nothing is left to do.
  await node.started;
  let drainSteps = 0;
  for (; drainSteps < MAX_DRAIN_STEPS; drainSteps++) {
    if (client.pendingRetries > 0 && client.inFlight < MAX_CLIENT_IN_FLIGHT) client.retry(node);
    await turn();
    // Quiet: no record pending and no attempt running. Clients may still wait for results, which
    // only time (the next timer) can bring.
    if (!node.quiet || client.pendingRetries > 0) continue;
    // Only while something is unfinished: further on wait the retention timers, which would remove
    // the completed invocations the oracle reads.
    if (!(await hasUnfinished(node))) break;
    const next = node.runtime.timers.nextFireAtMs();
    if (next === undefined) break;
    clock.advanceTo(next);
    node.runtime.timers.fireDue();
  }

  const simulatedSteps = steps + drainSteps;
  const stepsPerSecond = Math.round(simulatedSteps / ((performance.now() - startedMs) / 1000));

  // Assert: the crash test's oracle, over the admin reads and (for idempotent replays) the ingress.
  const admin = new InProcessAdmin(node.runtime);
  const ingress = await startIngressServer({
    api: node.runtime,
    host: "127.0.0.1",
    port: 0,
  });
  let verdict: Awaited<ReturnType<typeof checkAll>>;
  try {
    verdict = await checkAll(admin, client.requests, observer, `http://127.0.0.1:${ingress.port}`);
  } finally {
    await ingress.close();
  }
  await node.runtime.stop();
  const { checks, steps: recorded } = verdict;

  const acked = client.requests.filter((r) => r.ack).length;
  const report = [
    `simulation seed ${seed}: ${steps} steps + ${drainSteps} drain turns, ${client.requests.length} requests ` +
      `(${acked} acknowledged), ${crashes.length} crashes (${crashes.join(", ") || "none"}), ` +
      `${(clock.nowMs() - START_EPOCH_MS) / 1000} simulated s, ${stepsPerSecond} steps/s, ` +
      `outcome fingerprint ${fingerprint(client.requests.map((r) => `${r.id}=${r.ack?.invocationId ?? "-"}`))}`,
    `handler attempts ${observer.attempts}, step executions ${observer.executions.length} ` +
      `(${recorded.reExecutionsBeforeDurable} before durability), checkpoint acks ${observer.checkpointAcks}, ` +
      `failed checkpoints ${observer.checkpointFailures}, wake-ups ${observer.wakes.length}`,
    ...checks.map((c) => `${c.violations.length === 0 ? "✓" : "✗"} ${c.name}: ${c.verified} verified`),
  ].join("\n");
  const stuck = drainSteps >= MAX_DRAIN_STEPS ? `drain did not finish within ${MAX_DRAIN_STEPS} turns\n` : "";
  return { seed, checks, failures: stuck + formatViolations(checks), report, steps: simulatedSteps };
}

/** FNV-1a of the ledger: two runs of one seed that print the same value made the same invocations. */
function fingerprint(lines: string[]): string {
  let h = 0x811c9dc5;
  for (const ch of lines.join("\n")) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
