import { withCode } from "./sdk-error-codes";

const NON_DETERMINISM_ERROR = Symbol.for("capstan.NonDeterminismError");

/**
 * The code issued a different command than the one recorded at the same journal index (kind or
 * name/key/target differ), e.g. a step renamed or reordered while invocations were in flight. The
 * attempt ends with outcome `retry` (name "NonDeterminismError"): the runtime backs off and, once its
 * retry policy is exhausted, pauses the invocation so a fixed deployment can resume it.
 *
 * @example
 * // recorded: run("charge") at index 2; new code calls run("charge-card") first
 * // → NonDeterminismError: entry 2: expected run("charge"), actual run("charge-card")
 */
export class NonDeterminismError extends Error {
  override readonly name = "NonDeterminismError";
  readonly [NON_DETERMINISM_ERROR] = true;
  readonly code = "SDK_NON_DETERMINISM";
  constructor(
    readonly entryIndex: number,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(withCode("SDK_NON_DETERMINISM", `entry ${entryIndex}: expected ${expected}, actual ${actual}`));
  }
}

/**
 * True for a NonDeterminismError from any copy of the SDK.
 *
 * @example
 * if (isNonDeterminismError(e)) console.error(e.expected, e.actual);
 */
export function isNonDeterminismError(e: unknown): e is NonDeterminismError {
  return (
    typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[NON_DETERMINISM_ERROR] === true
  );
}
