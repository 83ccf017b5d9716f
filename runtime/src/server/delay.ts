/**
 * Parses `?delay=` of a one-way send in the formats Restate's ingress accepts: ISO-8601 durations
 * (`PT10S`, `P1DT2H`, `P2W`, fractional seconds `PT1.5S`) and humantime spans (`500ms`, `10s`, `1m`,
 * `1h30m`, `1h 30m`, `60 sec`, `1d`). Calendar months and years are rejected: their length is ambiguous.
 */
import { ApiError } from "./api-error";
import { MAX_DELAY_MS } from "./limits";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Humantime's unit names (months and years left out on purpose). */
// prettier-ignore
const HUMAN_UNITS: Record<string, number> = {
  nsec: 1e-6, ns: 1e-6,
  usec: 1e-3, us: 1e-3,
  msec: 1, ms: 1, millis: 1, milliseconds: 1, millisecond: 1,
  seconds: SECOND, second: SECOND, sec: SECOND, secs: SECOND, s: SECOND,
  minutes: MINUTE, minute: MINUTE, min: MINUTE, mins: MINUTE, m: MINUTE,
  hours: HOUR, hour: HOUR, hr: HOUR, hrs: HOUR, h: HOUR,
  days: DAY, day: DAY, d: DAY,
  weeks: 7 * DAY, week: 7 * DAY, w: 7 * DAY,
};

const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;
const HUMAN_PART = /(\d+)\s*([a-zA-Z]+)\s*/y;

function invalid(text: string, why: string): ApiError {
  return new ApiError(400, "INGRESS_INVALID_DELAY", `bad delay ${JSON.stringify(text)}: ${why}`);
}

/**
 * @returns the delay in whole milliseconds (sub-millisecond parts are rounded up).
 * @throws ApiError 400 INGRESS_INVALID_DELAY for anything else, or beyond MAX_DELAY_MS.
 * @example
 * parseDelayMs("1h30m") // 5_400_000
 * parseDelayMs("PT10S") // 10_000
 */
export function parseDelayMs(text: string): number {
  const s = text.trim();
  if (s === "") throw invalid(text, "empty");
  const ms = s.startsWith("P") ? parseIso(s, text) : parseHuman(s, text);
  const rounded = Math.ceil(ms);
  if (!Number.isFinite(rounded) || rounded > MAX_DELAY_MS) {
    throw invalid(text, `longer than the maximum of ${MAX_DELAY_MS} ms`);
  }
  return rounded;
}

function parseIso(s: string, text: string): number {
  const m = ISO.exec(s);
  // "P" and "PT" alone match the regex with no component: not a duration.
  if (m === null || m.slice(1).every((g) => g === undefined) || s.endsWith("T")) {
    throw invalid(text, "not an ISO-8601 duration (P[nW][nD][T[nH][nM][nS]])");
  }
  const n = (g: string | undefined): number => (g === undefined ? 0 : Number(g.replace(",", ".")));
  return n(m[1]) * 7 * DAY + n(m[2]) * DAY + n(m[3]) * HOUR + n(m[4]) * MINUTE + n(m[5]) * SECOND;
}

function parseHuman(s: string, text: string): number {
  let total = 0;
  HUMAN_PART.lastIndex = 0;
  while (HUMAN_PART.lastIndex < s.length) {
    const at = HUMAN_PART.lastIndex;
    const m = HUMAN_PART.exec(s);
    if (m === null) throw invalid(text, `unexpected input at offset ${at} (expected e.g. 10s, 1h30m, PT10S)`);
    const unit = HUMAN_UNITS[m[2]!];
    if (unit === undefined) throw invalid(text, `unknown unit ${JSON.stringify(m[2])}`);
    total += Number(m[1]) * unit;
  }
  return total;
}
