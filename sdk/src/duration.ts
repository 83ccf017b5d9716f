import { TerminalError } from "./errors/terminal-error";
import { withCode } from "./errors/sdk-error-codes";

/**
 * A span of time: milliseconds, or named parts that add up.
 *
 * @example
 * await ctx.sleep({ days: 1, hours: 2 }); // same as ctx.sleep(93_600_000)
 */
export type Duration =
  number | { days?: number; hours?: number; minutes?: number; seconds?: number; milliseconds?: number };

/**
 * Milliseconds of a Duration, rounded up; a negative or non-finite duration is a TerminalError.
 *
 * @example
 * durationToMs({ minutes: 1, seconds: 30 }) // 90_000
 */
export function durationToMs(d: Duration): number {
  const ms =
    typeof d === "number"
      ? d
      : (d.days ?? 0) * 86_400_000 +
        (d.hours ?? 0) * 3_600_000 +
        (d.minutes ?? 0) * 60_000 +
        (d.seconds ?? 0) * 1000 +
        (d.milliseconds ?? 0);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new TerminalError(withCode("SDK_INVALID_ARGUMENT", `invalid duration ${JSON.stringify(d)}`), {
      code: 400,
    });
  }
  return Math.ceil(ms);
}
