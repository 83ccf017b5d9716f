/**
 * The exact oracle of the crash test. Each check returns violations (empty = the guarantee held) and
 * counts what it verified. It reads the final runtime state through the admin API and compares it with
 * the client ledger (LoadDriver) and the handler-side observations (HandlerObserver).
 */
import type { InvocationDetail } from "../../../runtime/src/server/runtime-api";
import { HEADER_INVOCATION_ID } from "@capstan/sdk/protocol";
import type { AdminReads } from "./admin-client";
import { UNFINISHED_STATUSES } from "./admin-client";
import type { StepsOutput, NapOutput } from "./chaos-services";
import { completionText, type HandlerObserver } from "./handler-observer";
import { COUNTER_KEYS, TALLY_KEYS, type LogicalRequest } from "./load-driver";

export interface CheckResult {
  name: string;
  verified: number;
  violations: string[];
}

const INSTRUMENTED_STEPS = new Set(["s1", "s2", "s3", "woke", "fired"]);
const MAX_VIOLATIONS_SHOWN = 10;

function result(name: string, verified: number, violations: string[]): CheckResult {
  return { name, verified, violations };
}

/** Every request that needed an idempotent retry was acknowledged in the end (clients are not stuck). */
export function checkAllIdempotentAcknowledged(requests: LogicalRequest[]): CheckResult {
  const idempotent = requests.filter((r) => r.idempotent);
  const violations = idempotent
    .filter((r) => r.ack === undefined)
    .map((r) => `${r.id} never acknowledged after ${r.attempts} attempts: ${r.failures.join(" | ")}`);
  return result("idempotent requests all acknowledged after retries", idempotent.length, violations);
}

/**
 * Nothing left behind: no invocation in a non-final status, none failed. Counted over every invocation
 * with SQL (the list endpoint is capped); the unfinished ones are listed for the message.
 */
export async function checkNothingStuck(admin: AdminReads): Promise<CheckResult> {
  const violations: string[] = [];
  let total = 0;
  const rows = await admin.query(
    "SELECT status, outcome, count(*) FROM invocations GROUP BY status, outcome",
  );
  for (const [status, outcome, count] of rows as Array<[string, string | null, number]>) {
    total += count;
    if (status !== "completed" || outcome !== "succeeded") {
      violations.push(`${count} invocation(s) ${status}${outcome ? ` (${outcome})` : ""}`);
    }
  }
  for (const status of UNFINISHED_STATUSES) {
    for (const inv of await admin.invocations(status)) {
      violations.push(
        `${inv.id} ${inv.target.service}/${inv.target.key ?? ""}/${inv.target.handler} left ${status}` +
          ` (attempt ${inv.attempt}${inv.lastFailure ? `, last failure: ${inv.lastFailure.message}` : ""})`,
      );
    }
  }
  return result("nothing stuck or failed after the last restart", total, violations);
}

/**
 * Every acknowledged invocation exists and completed successfully, and so did every invocation the
 * runtime ever dispatched to a handler (it can only dispatch what it durably accepted). Loads the
 * details the later checks use.
 */
export async function loadAndCheckCompleted(
  admin: AdminReads,
  requests: LogicalRequest[],
  observer: HandlerObserver,
): Promise<{ check: CheckResult; details: Map<string, InvocationDetail> }> {
  const ids = new Set<string>();
  for (const r of requests) if (r.ack) ids.add(r.ack.invocationId);
  for (const e of observer.executions) ids.add(e.invocationId);
  const details = new Map<string, InvocationDetail>();
  const violations: string[] = [];
  const acked = new Map(requests.filter((r) => r.ack).map((r) => [r.ack!.invocationId, r]));
  for (const id of ids) {
    const detail = await admin.invocation(id);
    const what = acked.has(id) ? `acknowledged ${acked.get(id)!.id}` : "dispatched (unacknowledged)";
    if (detail === undefined) {
      violations.push(`${what} invocation ${id} is LOST (404)`);
      continue;
    }
    details.set(id, detail);
    if (detail.status !== "completed" || detail.result?.kind === "failure") {
      violations.push(
        `${what} invocation ${id} is ${detail.status} ${JSON.stringify(detail.result ?? null)}`,
      );
    }
  }
  return {
    check: result("acknowledged and dispatched invocations completed", ids.size, violations),
    details,
  };
}

/**
 * Exactly-once object updates. For each Counter key with N logical requests (each acknowledged):
 * the state is N, the acknowledged results are exactly {1..N} (a request applied twice, or an update
 * lost, leaves a duplicate or a gap), and Audit, which got one one-way send per applied update in the
 * same journal, holds exactly {1..N} (the send committed atomically with the state write: never lost,
 * never duplicated). For each Tally key, its state holds each acknowledged send's id exactly once.
 */
export async function checkObjectsExactlyOnce(
  admin: AdminReads,
  requests: LogicalRequest[],
  when = "",
): Promise<CheckResult> {
  const violations: string[] = [];
  let verified = 0;
  for (const key of COUNTER_KEYS) {
    const mine = requests.filter((r) => r.kind === "counter" && r.key === key);
    const n = mine.length;
    const expected = Array.from({ length: n }, (_, i) => i + 1);
    const state = await admin.state("Counter", key);
    if ((state.count ?? 0) !== n)
      violations.push(`Counter/${key} count is ${String(state.count)}, expected ${n}`);
    const results = mine
      .filter((r) => r.ack)
      .map((r) => Number(r.ack!.body))
      .sort((a, b) => a - b);
    if (JSON.stringify(results) !== JSON.stringify(expected)) {
      violations.push(`Counter/${key} acknowledged results ${describeMultiset(results, n)}`);
    }
    const audit = ((await admin.state("Audit", key)).values as number[] | undefined) ?? [];
    const sortedAudit = [...audit].sort((a, b) => a - b);
    if (JSON.stringify(sortedAudit) !== JSON.stringify(expected)) {
      violations.push(`Audit/${key} (one send per Counter update) holds ${describeMultiset(sortedAudit, n)}`);
    }
    verified += n;
  }
  for (const key of TALLY_KEYS) {
    const expected = requests
      .filter((r) => r.kind === "tally-send" && r.key === key)
      .map((r) => r.id)
      .sort();
    const ids = (((await admin.state("Tally", key)).ids as string[] | undefined) ?? []).slice().sort();
    if (JSON.stringify(ids) !== JSON.stringify(expected)) {
      const dup = ids.filter((x, i) => ids[i - 1] === x);
      const missing = expected.filter((x) => !ids.includes(x));
      const extra = ids.filter((x) => !expected.includes(x));
      violations.push(
        `Tally/${key}: duplicated ${JSON.stringify(dup)}, missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(extra)}`,
      );
    }
    verified += expected.length;
  }
  return result(
    `object updates exactly once; state and sends atomic with the journal${when}`,
    verified,
    violations,
  );
}

/**
 * Recorded steps. For every run entry in the final journals (the record of truth):
 * (a) an instrumented step's recorded value is the token of one of its body executions;
 * (b) no body execution of that step STARTED after the first evidence that its result was durable
 *     (a 200 checkpoint ack, or an invoke request whose journal carried it) — the observable form of
 *     "a recorded step is never re-executed": a body may legitimately run again only while its result is
 *     not yet durable (a kill between the body and the ack), and then no evidence precedes it;
 * (c) every piece of durability evidence carried the same value as the final journal (an acked result
 *     is never replaced by another attempt's);
 * (d) Steps outputs (and acknowledged call bodies) equal the journal's step values.
 */
export function checkRecordedSteps(
  observer: HandlerObserver,
  details: Map<string, InvocationDetail>,
  requests: LogicalRequest[],
): CheckResult & { reExecutionsBeforeDurable: number; reExecutionsSameRuntime: number } {
  const violations: string[] = [];
  const executions = groupBy(observer.executions, (e) => `${e.invocationId}|${e.step}`);
  const evidence = groupBy(observer.evidence, (e) => `${e.invocationId}|${e.step}`);
  let verified = 0;
  let reExecutionsBeforeDurable = 0;
  let reExecutionsSameRuntime = 0;
  for (const [id, detail] of details) {
    const recorded = new Map<string, string>();
    for (const entry of detail.journal) {
      if (entry.kind !== "run" || entry.result === undefined) continue;
      const value = completionText(entry.result);
      recorded.set(entry.name, value);
      const k = `${id}|${entry.name}`;
      const runs = executions.get(k) ?? [];
      const proofs = evidence.get(k) ?? [];
      for (const p of proofs) {
        if (p.value !== value) {
          violations.push(
            `${k}: durable evidence (${p.source} @${p.seq}) said ${p.value}, journal has ${value}`,
          );
        }
      }
      if (!INSTRUMENTED_STEPS.has(entry.name)) continue;
      verified++;
      if (runs.length > 1) reExecutionsBeforeDurable += runs.length - 1;
      reExecutionsSameRuntime += runs.filter(
        (r, i) => i > 0 && r.incarnation === runs[i - 1]!.incarnation,
      ).length;
      if (!runs.some((r) => JSON.stringify(r.token) === value)) {
        violations.push(
          `${k}: recorded ${value} is no body execution's result (${runs.map((r) => r.token).join(",")})`,
        );
      }
      const firstProof = Math.min(...proofs.map((p) => p.seq));
      for (const r of runs.filter((r) => r.seq > firstProof)) {
        const proof = proofs.find((p) => p.seq === firstProof)!;
        violations.push(
          `${k}: body RE-EXECUTED (${r.token}, attempt ${r.attempt}, runtime ${r.incarnation}) after its result ` +
            `${proof.value} was durable (${proof.source} @${proof.seq})`,
        );
      }
    }
    for (const [name, runs] of groupBy(
      observer.executions.filter((e) => e.invocationId === id),
      (e) => e.step,
    )) {
      if (!recorded.has(name))
        violations.push(`${id}: step ${name} ran ${runs.length}x but is not in the journal`);
    }
    if (detail.target.service === "Steps" && detail.result?.kind === "value") {
      const out = JSON.parse(detail.result.value) as StepsOutput;
      for (const s of ["s1", "s2", "s3"] as const) {
        if (JSON.stringify(out[s]) !== recorded.get(s)) {
          violations.push(`${id}: output ${s}=${out[s]} but journal has ${String(recorded.get(s))}`);
        }
      }
    }
  }
  for (const r of requests) {
    if (r.kind !== "steps-call" || !r.ack) continue;
    const detail = details.get(r.ack.invocationId);
    if (detail?.result?.kind === "value" && detail.result.value !== r.ack.body) {
      violations.push(
        `${r.id}: acknowledged body ${r.ack.body} differs from the recorded output ${detail.result.value}`,
      );
    }
  }
  return {
    ...result("a recorded step is never re-executed; recorded results never change", verified, violations),
    reExecutionsBeforeDurable,
    reExecutionsSameRuntime,
  };
}

/** One exclusive handler per object key: never two invocations' attempts in flight on a key at once. */
export function checkExclusive(observer: HandlerObserver): CheckResult {
  return result(
    "one exclusive handler per object key (per runtime incarnation)",
    observer.attempts,
    observer.overlaps.map(
      (o) =>
        `${o.object} in runtime ${o.incarnation}: ${o.starting} started while ${o.running.join(",")} ran (@${o.seq})`,
    ),
  );
}

/**
 * Timers never fire early: every wake-up observed in the handler came at or after the earliest allowed
 * time (sleep: the journaled `now` step before the sleep + its duration; delayed send: the client's
 * clock before sending + the delay), and every journaled sleep's wake-up time is not before t0 + ms.
 * Both clocks are this machine's. "Fires once" is observed through the step after the wake-up: check
 * (b) of checkRecordedSteps covers it (a second firing that re-ran the continuation would re-run "woke").
 */
export function checkTimers(observer: HandlerObserver, details: Map<string, InvocationDetail>): CheckResult {
  const violations = observer.wakes
    .filter((w) => w.observedMs < w.notBeforeMs)
    .map(
      (w) => `${w.kind} ${w.invocationId} woke at ${w.observedMs}, ${w.notBeforeMs - w.observedMs} ms EARLY`,
    );
  let verified = observer.wakes.length;
  for (const [id, detail] of details) {
    if (detail.target.handler !== "nap" || detail.result?.kind !== "value") continue;
    const out = JSON.parse(detail.result.value) as NapOutput;
    const sleeps = detail.journal.filter((e) => e.kind === "sleep");
    if (sleeps.length !== 1 || sleeps[0]!.kind !== "sleep" || sleeps[0]!.result === undefined) {
      violations.push(`${id}: expected one completed sleep entry, got ${JSON.stringify(sleeps)}`);
      continue;
    }
    const wakeUpAtMs = sleeps[0]!.wakeUpAtMs ?? 0;
    if (wakeUpAtMs < out.t0 + out.ms) {
      violations.push(`${id}: sleep stamped to wake at ${wakeUpAtMs}, before t0 ${out.t0} + ${out.ms} ms`);
    }
    verified++;
  }
  return result("timers never fire early", verified, violations);
}

/**
 * Same idempotency key → same invocation and same result, across every crash: each acknowledged
 * idempotent request is sent again; a call must answer the same invocation id and body, a send must
 * answer 202 PreviouslyAccepted with the same invocation id.
 */
export async function checkIdempotencyReplays(
  ingressUrl: string,
  requests: LogicalRequest[],
): Promise<CheckResult> {
  const acked = requests.filter((r) => r.idempotent && r.ack);
  const violations: string[] = [];
  const queue = [...acked];
  const worker = async (): Promise<void> => {
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
      const res = await fetch(ingressUrl + r.path, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": r.id },
        body: r.body(),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.text();
      const send = r.path.endsWith("/send");
      const id = send
        ? (JSON.parse(body) as { invocationId?: string }).invocationId
        : res.headers.get(HEADER_INVOCATION_ID);
      const same =
        res.status === r.ack!.status &&
        id === r.ack!.invocationId &&
        (send
          ? (JSON.parse(body) as { status?: string }).status === "PreviouslyAccepted"
          : body === r.ack!.body);
      if (!same) {
        violations.push(
          `${r.id}: first answer ${r.ack!.status} ${r.ack!.invocationId} ${r.ack!.body}, again ${res.status} ${id} ${body}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return result("same idempotency key → same invocation and result after crashes", acked.length, violations);
}

export function formatViolations(checks: CheckResult[]): string {
  return checks
    .filter((c) => c.violations.length > 0)
    .map(
      (c) =>
        `✗ ${c.name}: ${c.violations.length} violation(s)\n` +
        c.violations
          .slice(0, MAX_VIOLATIONS_SHOWN)
          .map((v) => `    ${v}`)
          .join("\n") +
        (c.violations.length > MAX_VIOLATIONS_SHOWN
          ? `\n    … ${c.violations.length - MAX_VIOLATIONS_SHOWN} more`
          : ""),
    )
    .join("\n");
}

function describeMultiset(sorted: number[], n: number): string {
  const dup = sorted.filter((x, i) => sorted[i - 1] === x);
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((x) => !sorted.includes(x));
  const extra = sorted.filter((x) => x < 1 || x > n);
  return `${sorted.length} values for ${n} requests: duplicated ${JSON.stringify(dup)}, missing ${JSON.stringify(missing)}, out of range ${JSON.stringify(extra)}`;
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Every check, in the order each needs the previous ones' reads: what the crash suites and the
 * simulation judge a run by. `ingressUrl` serves the idempotent replays. The recorded-steps result
 * is returned apart too, for its re-execution counts.
 */
export async function checkAll(
  admin: AdminReads,
  requests: LogicalRequest[],
  observer: HandlerObserver,
  ingressUrl: string,
): Promise<{ checks: CheckResult[]; steps: ReturnType<typeof checkRecordedSteps> }> {
  const checks: CheckResult[] = [];
  checks.push(checkAllIdempotentAcknowledged(requests));
  checks.push(await checkNothingStuck(admin));
  const { check: completed, details } = await loadAndCheckCompleted(admin, requests, observer);
  checks.push(completed);
  checks.push(await checkObjectsExactlyOnce(admin, requests));
  const steps = checkRecordedSteps(observer, details, requests);
  checks.push(steps);
  checks.push(checkExclusive(observer));
  checks.push(checkTimers(observer, details));
  checks.push(await checkIdempotencyReplays(ingressUrl, requests));
  checks.push(await checkObjectsExactlyOnce(admin, requests, " (after the idempotent replays)"));
  return { checks, steps };
}
