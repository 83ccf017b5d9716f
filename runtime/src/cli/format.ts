/** Human-readable output: aligned tables and the journal timeline. */
import type { JournalEntry } from "@capstan/sdk/protocol";
import { entryLabel } from "@capstan/sdk/protocol";

export function table(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? "" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export function time(ms: number | undefined): string {
  return ms === undefined ? "" : new Date(ms).toISOString();
}

function resultText(e: JournalEntry): string {
  const r = "result" in e ? e.result : undefined;
  if (!r) return e.kind === "setState" ? truncate(e.value) : "";
  switch (r.kind) {
    case "value":
      return truncate(r.value);
    case "empty":
      return "(empty)";
    case "failure":
      return `failed ${r.failure.code}: ${truncate(r.failure.message)}`;
  }
}

function statusOf(e: JournalEntry): string {
  if (e.kind === "output") return e.result.kind === "failure" ? "failed" : "done";
  if (!("result" in e)) return "recorded";
  return e.result === undefined ? "pending" : e.result.kind === "failure" ? "failed" : "completed";
}

/** Milliseconds from an entry's recording to its result, for entries that wait. */
function duration(e: JournalEntry, times: [number, number | null] | undefined): string {
  if (!times || !("result" in e) || e.kind === "output") return "";
  return times[1] === null ? "…" : `${times[1] - times[0]} ms`;
}

export function timeline(journal: JournalEntry[], entryTimes: Array<[number, number | null]> = []): string {
  const start = entryTimes[0]?.[0];
  return table(
    ["#", "at", "kind", "name", "status", "duration", "detail"],
    journal.map((e) => [
      e.index,
      start !== undefined && entryTimes[e.index] ? `+${entryTimes[e.index]![0] - start} ms` : "",
      e.kind,
      entryLabel(e),
      statusOf(e),
      duration(e, entryTimes[e.index]),
      e.kind === "sleep" && e.wakeUpAtMs !== undefined
        ? `${e.durationMs} ms, wakes ${time(e.wakeUpAtMs)}`
        : resultText(e),
    ]),
  );
}

function truncate(s: string, max = 60): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** What `describe` shows of the last failed attempt (the admin API's `lastFailure`). */
export interface FailureView {
  message: string;
  atMs: number;
  attempt: number;
  stack?: string;
  entry?: { index: number; kind: string; name?: string };
  nextRetryAtMs?: number;
}

/**
 * The last failure as `describe` prints it: attempt and time, the failing step, the next retry, then
 * the stack's frames.
 *
 * @example
 * failureLines({ message: "boom", atMs, attempt: 3, entry: { index: 2, kind: "run", name: "charge" } }, "paused")
 * // ["last failure: attempt 3 at 2026-…Z, in run \"charge\" (entry 2): boom", "next: paused …"]
 */
export function failureLines(failure: FailureView, status: string, invocationId: string): string[] {
  const step =
    failure.entry === undefined
      ? ""
      : `, in ${failure.entry.kind}${failure.entry.name !== undefined ? ` "${failure.entry.name}"` : ""} (entry ${failure.entry.index})`;
  const lines = [
    `last failure: attempt ${failure.attempt} at ${time(failure.atMs)}${step}: ${failure.message}`,
  ];
  if (failure.nextRetryAtMs !== undefined) lines.push(`next retry: ${time(failure.nextRetryAtMs)}`);
  else if (status === "paused")
    lines.push(`next retry: none, paused (capstan invocations resume ${invocationId})`);
  const stack = failure.stack?.split("\n").filter((l) => /^\s+at /.test(l)) ?? [];
  if (stack.length > 0) lines.push("stack:", ...stack.map((l) => `  ${l.trim()}`));
  return lines;
}
