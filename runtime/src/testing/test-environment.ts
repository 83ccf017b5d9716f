/**
 * `@capstan/runtime/testing`: a real embedded runtime (SQLite in a temp dir, real ingress and admin
 * listeners on ephemeral ports) running the user's services in-process, with time skipping and an
 * `alwaysReplay` mode. No docker, no AWS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createEndpoint, type EndpointOptions } from "@capstan/sdk";
import type { Completion, JournalEntry } from "@capstan/sdk/protocol";
import { formatAwakeableId, parseInvocationId } from "@capstan/sdk/protocol";
import { startRuntimeNode, type RuntimeNode } from "../node";
import { loadNodeCredentials, type NodeCredentials } from "../security/node-credentials";
import type { InvocationDetail } from "../server/runtime-api";
import type { Telemetry } from "../telemetry/telemetry";
import { InProcessInvoker } from "./in-process-invoker";
import { ManualClock } from "./manual-clock";

type Definition = Parameters<typeof createEndpoint>[0];

export interface TestEnvironmentOptions {
  /** The services, objects and workflows under test. */
  services: Definition[];
  /** Suspend and replay after every journal entry, to prove handlers are deterministic. */
  alwaysReplay?: boolean;
  /**
   * "skip" (default): a manual clock that jumps to the next timer whenever nothing else can happen, so
   * `ctx.sleep({ days: 3 })` completes at once. "manual": time moves only with `advanceTime`.
   * "real": the system clock.
   */
  time?: "skip" | "manual" | "real";
  /** Partitions of the embedded runtime (default 4). */
  partitions?: number;
  /** Keep the data here (default: a fresh temp dir removed on close). */
  dataDir?: string;
  /** How long completed invocations stay inspectable (default 1 hour). */
  completedRetentionMs?: number;
  endpointOptions?: Omit<EndpointOptions, "alwaysReplay">;
  /**
   * The runtime's spans, logs and counters, e.g. `new Telemetry(new OtelTracing({ exporter }), …)` with
   * an in-memory exporter to assert on spans (default: tracing off, nothing logged).
   */
  telemetry?: Telemetry;
  /**
   * Lock the data directory, refusing a second runtime on it (default true). False only to test the
   * log's own fence, which needs two runtimes on one directory.
   */
  lockDataDir?: boolean;
}

export interface CallOptions {
  key?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

/** A handler's terminal failure as seen by a caller. */
export class InvocationFailedError extends Error {
  override readonly name = "InvocationFailedError";
  constructor(
    readonly code: number,
    message: string,
    readonly invocationId: string,
  ) {
    super(message);
  }
}

/** Rounds of event-loop turns with nothing happening before the runtime counts as quiet. */
const QUIET_TURNS = 3;
/** How long `waitUntilSuspended` waits by default before it gives up. */
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
/** Under real or manual time, how often `waitUntilSuspended` looks again. */
const WAIT_POLL_MS = 5;

/** Which journal entry `waitUntilSuspended` waits for: its kind and/or its name (a run's, a sleep's). */
export interface EntryMatch {
  kind?: JournalEntry["kind"];
  name?: string;
}

function matches(entry: JournalEntry, on: EntryMatch): boolean {
  if (on.kind !== undefined && entry.kind !== on.kind) return false;
  return on.name === undefined || ("name" in entry && entry.name === on.name);
}

function describeMatch(on: EntryMatch): string {
  const parts = [on.kind, on.name !== undefined ? JSON.stringify(on.name) : undefined].filter(Boolean);
  return parts.length > 0 ? `an entry ${parts.join(" ")}` : "any entry";
}

export class TestEnvironment {
  /** Deployments added with `deploy`, for their in-process endpoint names. */
  private deployments = 0;

  private constructor(
    private node: RuntimeNode,
    private readonly options: Required<Pick<TestEnvironmentOptions, "time" | "partitions">> &
      TestEnvironmentOptions,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    readonly clock: ManualClock | undefined,
    private readonly invoker: InProcessInvoker,
    private readonly credentials: NodeCredentials,
  ) {}

  static async start(options: TestEnvironmentOptions): Promise<TestEnvironment> {
    const time = options.time ?? "skip";
    const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "capstan-test-"));
    const clock = time === "real" ? undefined : new ManualClock();
    // With a manual clock, waiting inline would wait in real time for timers that only move when
    // skipped: handlers suspend at every wait instead (the runtime resumes them).
    // The data directory's secrets, as a real node has: requests to the services are signed and the
    // endpoint accepts only this runtime's signature, so request identity is exercised by every test.
    const credentials = loadNodeCredentials(dataDir);
    const invoker = new InProcessInvoker(() => (clock ? 0 : 15 * 60_000), credentials.identity);
    const endpoint = createEndpoint(...options.services, {
      identityKeys: [credentials.identity.publicKey],
      ...options.endpointOptions,
      alwaysReplay: options.alwaysReplay ?? false,
    });
    const deployment = invoker.add("services", endpoint);
    const full = { ...options, time, partitions: options.partitions ?? 4 };
    const node = await TestEnvironment.startNode(full, dataDir, clock, invoker, credentials);
    const env = new TestEnvironment(
      node,
      full,
      dataDir,
      options.dataDir === undefined,
      clock,
      invoker,
      credentials,
    );
    await node.runtime.registerDeployment(deployment, { force: true });
    return env;
  }

  private static startNode(
    options: TestEnvironmentOptions & { partitions: number },
    dataDir: string,
    clock: ManualClock | undefined,
    invoker: InProcessInvoker,
    credentials: NodeCredentials,
  ): Promise<RuntimeNode> {
    return startRuntimeNode({
      dataDir,
      partitions: options.partitions,
      host: "127.0.0.1",
      ingressPort: 0,
      adminPort: 0,
      checkpointPort: 0,
      credentials,
      invoker,
      ...(clock && { clock, realTimers: false }),
      completedRetentionMs: options.completedRetentionMs ?? 3_600_000,
      log: () => undefined,
      ...(options.telemetry !== undefined && { telemetry: options.telemetry }),
      ...(options.lockDataDir === false && { dataDirLock: false }),
      // A test's teardown or restart is never held by a request to `ingressUrl` still waiting (on a
      // manual clock it may wait forever): what is in flight is answered 503 at once.
      drainMs: 0,
    });
  }

  get runtime(): RuntimeNode["runtime"] {
    return this.node.runtime;
  }
  get ingressUrl(): string {
    return this.node.ingressUrl;
  }
  get adminUrl(): string {
    return this.node.adminUrl;
  }
  /** The admin API's bearer token: send `Authorization: Bearer ${env.adminToken}`. */
  get adminToken(): string {
    return this.node.adminToken;
  }
  /** The checkpoint listener's URL (handlers' only way in). */
  get checkpointUrl(): string {
    return this.node.checkpointUrl;
  }

  /**
   * Registers `services` as a new deployment, as deploying new code does: new invocations go to it,
   * existing ones stay on theirs until resumed onto it (`resumeInvocation(id, { deployment })`).
   *
   * @example
   * const fixed = await env.deploy(checkoutWithFix);
   * await env.runtime.resumeInvocation(stuckId, { deployment: "latest" }); // replays on the fix
   */
  async deploy(...services: Definition[]): Promise<string> {
    this.deployments += 1;
    const endpoint = createEndpoint(...services, {
      ...this.options.endpointOptions,
      alwaysReplay: this.options.alwaysReplay ?? false,
    });
    const deployment = this.invoker.add(`services-${this.deployments}`, endpoint);
    return (await this.runtime.registerDeployment(deployment, { force: true })).id;
  }

  /** Calls a handler and returns its output (JSON-decoded); a terminal failure throws InvocationFailedError. */
  async call<T = unknown>(
    service: string,
    handler: string,
    input?: unknown,
    options: CallOptions = {},
  ): Promise<T> {
    const { invocationId } = await this.runtime.submit({
      target: { service, handler, ...(options.key !== undefined && { key: options.key }) },
      input: input === undefined ? "" : JSON.stringify(input),
      headers: options.headers ?? {},
      ...(options.idempotencyKey !== undefined && { idempotencyKey: options.idempotencyKey }),
    });
    return this.result<T>(invocationId);
  }

  /** Starts a handler without waiting; returns the invocation id. */
  async send(
    service: string,
    handler: string,
    input?: unknown,
    options: CallOptions & { delayMs?: number } = {},
  ): Promise<string> {
    const { invocationId } = await this.runtime.submit({
      target: { service, handler, ...(options.key !== undefined && { key: options.key }) },
      input: input === undefined ? "" : JSON.stringify(input),
      headers: options.headers ?? {},
      ...(options.idempotencyKey !== undefined && { idempotencyKey: options.idempotencyKey }),
      ...(options.delayMs !== undefined && { delayMs: options.delayMs }),
    });
    return invocationId;
  }

  /** Waits for an invocation's result, skipping time while nothing else can happen. */
  async result<T = unknown>(invocationId: string): Promise<T> {
    const abort = new AbortController();
    let completion: Completion | undefined;
    const done = this.runtime.awaitResult(invocationId, abort.signal).then((c) => {
      completion = c;
    });
    try {
      while (completion === undefined) {
        await Promise.race([done, this.settle()]);
        if (completion === undefined && this.options.time === "skip" && this.quiet()) {
          if (!this.skipToNextTimer()) await done; // nothing scheduled: only an outside event can help
        }
      }
    } finally {
      abort.abort();
    }
    return decodeCompletion<T>(completion, invocationId);
  }

  /**
   * Moves the manual clock forward and fires what became due. Settles first, so work already under
   * way (a just-sent invocation reaching its `ctx.sleep`) has armed its timers at the current time
   * before the clock moves.
   *
   * @example
   * const id = await env.send("Reminder", "remind", "ada");
   * await env.advanceTime(24 * 3_600_000); // the day-long sleep is over
   */
  async advanceTime(ms: number): Promise<void> {
    if (!this.clock) throw new Error("advanceTime needs time: 'skip' or 'manual'");
    await this.settle();
    this.clock.advanceBy(ms);
    this.runtime.timers.fireDue();
    await this.settle();
  }

  /** Waits until no record is pending and no attempt is in flight. */
  async settle(): Promise<void> {
    let quietTurns = 0;
    while (quietTurns < QUIET_TURNS) {
      await new Promise((r) => setImmediate(r));
      quietTurns = this.quiet() ? quietTurns + 1 : 0;
    }
  }

  /**
   * Waits until the invocation is blocked on an entry matching `on` (any entry when absent): the
   * runtime shows it `suspended` on that entry, or a handler waiting inline awaits it. Returns the
   * entry. Under `time: "skip"` time is skipped while nothing else can happen; throws when nothing
   * can (the invocation finished, or waits on something else), or after `timeoutMs` (default 10 s).
   *
   * @example
   * const id = await env.send("Approvals", "request", doc);
   * const entry = await env.waitUntilSuspended(id, { kind: "awakeable" });
   * await env.resolveAwakeable(env.awakeableId(id, entry), "approved");
   */
  async waitUntilSuspended(
    invocationId: string,
    on: EntryMatch = {},
    options: { timeoutMs?: number } = {},
  ): Promise<JournalEntry> {
    const deadlineMs = Date.now() + (options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
    for (;;) {
      await this.settle();
      const detail = await this.describe(invocationId);
      if (detail === undefined) throw new Error(`invocation ${invocationId} not found`);
      const blockedOn = detail.journal.find((e) => detail.awaiting.includes(e.index) && matches(e, on));
      if (blockedOn !== undefined && (detail.status === "suspended" || detail.status === "running"))
        return blockedOn;
      const waiting = `invocation ${invocationId} is ${detail.status}, awaiting [${detail.awaiting.join(", ")}]`;
      if (detail.status === "completed" || detail.status === "paused")
        throw new Error(`${waiting}: it will not block on ${describeMatch(on)}`);
      if (this.options.time === "skip" && this.quiet() && !this.skipToNextTimer())
        throw new Error(`${waiting} and nothing else can happen: not blocked on ${describeMatch(on)}`);
      if (Date.now() > deadlineMs)
        throw new Error(`${waiting} after ${options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS} ms`);
      // Real or manual time: something outside (a timer, a handler waiting inline) has to move first.
      if (this.options.time !== "skip") await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
  }

  /** The id of the awakeable a journal entry (or entry index) of `invocationId` created. */
  awakeableId(invocationId: string, entry: JournalEntry | number): string {
    const index = typeof entry === "number" ? entry : entry.index;
    return formatAwakeableId(parseInvocationId(invocationId), index);
  }

  /** Resolves an awakeable with `value` (JSON-encoded), as an external system would, and settles. */
  async resolveAwakeable(awakeableId: string, value?: unknown): Promise<void> {
    await this.runtime.completeAwakeable(awakeableId, {
      kind: "value",
      value: value === undefined ? "" : JSON.stringify(value),
    });
    await this.settle();
  }

  /** Rejects an awakeable: the handler's await throws a TerminalError with `reason`. */
  async rejectAwakeable(awakeableId: string, reason: string): Promise<void> {
    await this.runtime.completeAwakeable(awakeableId, {
      kind: "failure",
      failure: { code: 500, message: reason, name: "TerminalError" },
    });
    await this.settle();
  }

  /** The object's or workflow's state, JSON-decoded. */
  async state(service: string, key: string): Promise<Record<string, unknown>> {
    const raw = await this.runtime.getState(service, key);
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v)]));
  }

  async describe(invocationId: string): Promise<InvocationDetail | undefined> {
    return this.runtime.describeInvocation(invocationId);
  }

  /**
   * The invocation's journal: every recorded entry with its result, as the handler replays it.
   *
   * @example
   * expect((await env.journal(id)).map((e) => e.kind)).toEqual(["input", "run", "sleep", "output"]);
   */
  async journal(invocationId: string): Promise<JournalEntry[]> {
    const d = await this.describe(invocationId);
    if (!d) throw new Error(`invocation ${invocationId} not found`);
    return d.journal;
  }

  /** Closes the runtime and opens it again on the same data, as a restart would. */
  async restart(): Promise<void> {
    await this.node.close();
    this.node = await TestEnvironment.startNode(
      this.options,
      this.dataDir,
      this.clock,
      this.invoker,
      this.credentials,
    );
  }

  async close(): Promise<void> {
    await this.node.close();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private quiet(): boolean {
    return this.runtime.driver.inFlightCount === 0 && this.runtime.router.idle && this.runtime.timers.idle;
  }

  private skipToNextTimer(): boolean {
    const next = this.runtime.timers.nextFireAtMs();
    if (next === undefined || !this.clock) return false;
    this.clock.advanceTo(next);
    this.runtime.timers.fireDue();
    return true;
  }
}

function decodeCompletion<T>(c: Completion, invocationId: string): T {
  switch (c.kind) {
    case "value":
      return (c.value === "" ? undefined : JSON.parse(c.value)) as T;
    case "empty":
      return undefined as T;
    case "failure":
      throw new InvocationFailedError(c.failure.code, c.failure.message, invocationId);
  }
}

/** Starts a test environment. @example const env = await startTestEnvironment({ services: [greeter] }); */
export function startTestEnvironment(options: TestEnvironmentOptions): Promise<TestEnvironment> {
  return TestEnvironment.start(options);
}
