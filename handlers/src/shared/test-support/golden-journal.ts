/**
 * Golden journals: a handler's journal, recorded by the real runtime, compared with a committed JSON
 * fixture. A change to a step name, the order of steps or what they record fails the test, which is
 * what a user must notice before deploying (in-flight invocations replay against the old journal).
 *
 * Three things differ from run to run and are normalized, everything else is compared as is:
 * - invocation ids (`inv_{partition}_{random}`, random at the ingress) → `<inv-1>`, `<inv-2>`, ...
 *   numbered by first appearance, so "the same id twice" is still visible;
 * - UUIDs from `ctx.rand` (seeded from the invocation id) → `<uuid-1>`, ...;
 * - `wakeUpAtMs` (stamped from the test clock, which starts at the real time) → `"<wakeUpAtMs>"`;
 *   `durationMs` beside it stays exact.
 * - `completionOrder` (the order in which results were recorded, which for work running in parallel
 *   depends on timing) is left out.
 * Callers can pass other per-run values (e.g. a random verification code) in `replace`.
 *
 * Set CAPSTAN_UPDATE_GOLDEN=1 to (re)write fixtures after an intended change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { JournalEntry } from "@capstan/sdk/protocol";

const INVOCATION_ID = /inv_[0-9]{1,4}_[0-9A-Za-z]{8,40}/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Maps each distinct match of `pattern` to `<label-N>`, numbered by first appearance. */
function numbering(pattern: RegExp, label: string): (text: string) => string {
  const seen = new Map<string, string>();
  return (text) =>
    text.replace(pattern, (m) => {
      if (!seen.has(m)) seen.set(m, `<${label}-${seen.size + 1}>`);
      return seen.get(m)!;
    });
}

/** Applies `f` to every string in a JSON value (payloads are JSON text inside strings). */
function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  }
  return value;
}

/** The journal with per-run values replaced by stable placeholders (see the file comment). */
export function normalizeJournal(entries: JournalEntry[], replace: Record<string, string> = {}): unknown {
  const invocationIds = numbering(INVOCATION_ID, "inv");
  const uuids = numbering(UUID, "uuid");
  const withoutTimes = entries.map((entry) => {
    const { completionOrder: _order, ...e } = entry as JournalEntry & { completionOrder?: number };
    return e.kind === "sleep" && e.wakeUpAtMs !== undefined ? { ...e, wakeUpAtMs: "<wakeUpAtMs>" } : e;
  });
  // Only strings are rewritten, so a replaced value can never corrupt a number such as durationMs.
  return mapStrings(withoutTimes, (s) => {
    let out = uuids(invocationIds(s));
    for (const [value, placeholder] of Object.entries(replace)) out = out.split(value).join(placeholder);
    return out;
  });
}

/**
 * Asserts that the normalized journal equals the fixture at `fixturePath`.
 *
 * @example
 * expectGoldenJournal(await env.journal(id), path.join(__dirname, "fixtures/greet.journal.json"));
 */
export function expectGoldenJournal(
  entries: JournalEntry[],
  fixturePath: string,
  replace: Record<string, string> = {},
): void {
  const actual = normalizeJournal(entries, replace);
  if (process.env.CAPSTAN_UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(fixturePath), { recursive: true });
    writeFileSync(fixturePath, JSON.stringify(actual, null, 2) + "\n");
  }
  if (!existsSync(fixturePath)) {
    throw new Error(`no golden journal at ${fixturePath}: run the test once with CAPSTAN_UPDATE_GOLDEN=1`);
  }
  expect(actual).toEqual(JSON.parse(readFileSync(fixturePath, "utf8")));
}
