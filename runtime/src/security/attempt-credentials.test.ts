import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { formatInvocationId } from "@capstan/sdk/protocol";
import type { RuntimeError } from "../runtime-error";
import { statusOfCode } from "../server/error-status";
import { ATTEMPT_CREDENTIAL_TTL_MS, AttemptCredentials, MIN_ATTEMPT_KEY_BYTES } from "./attempt-credentials";
import { authenticateAttempt } from "./checkpoint-authentication";

const key = randomBytes(32);
const credentials = new AttemptCredentials(key);
const invocationId = formatInvocationId(3, "abcdefgh1234");
const claims = { partition: 3, invocationId, attempt: 2, epoch: 1_700_000_000_000, expiresAtMs: 5_000 };

describe("AttemptCredentials", () => {
  test("verifies what it issued until expiresAtMs, exclusive", () => {
    const token = credentials.issue(claims);
    expect(credentials.verify(token, invocationId, 4_999)).toEqual(claims);
    expect(credentials.verify(token, invocationId, 5_000)).toBe("expired");
  });

  test("refuses any change to the token, another invocation, and another key", () => {
    const token = credentials.issue(claims);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.integer({ min: 1, max: 60 }), (at, delta) => {
        const c = String.fromCharCode(((token.charCodeAt(at) - 32 + delta) % 95) + 32);
        const tampered = token.slice(0, at) + c + token.slice(at + 1);
        expect(credentials.verify(tampered, invocationId, 0)).toBe("invalid");
      }),
    );
    expect(credentials.verify(token, formatInvocationId(3, "abcdefgh1235"), 0)).toBe("invalid");
    expect(new AttemptCredentials(randomBytes(32)).verify(token, invocationId, 0)).toBe("invalid");
    expect(credentials.verify("a2", invocationId, 0)).toBe("invalid");
    expect(credentials.verify(undefined, invocationId, 0)).toBe("invalid");
    expect(credentials.verify(token + "x".repeat(100_000), invocationId, 0)).toBe("invalid");
  });

  test(`needs a key of at least MIN_ATTEMPT_KEY_BYTES (${MIN_ATTEMPT_KEY_BYTES})`, () => {
    expect(() => new AttemptCredentials(randomBytes(MIN_ATTEMPT_KEY_BYTES))).not.toThrow();
    expect(() => new AttemptCredentials(randomBytes(MIN_ATTEMPT_KEY_BYTES - 1))).toThrow(RangeError);
  });

  test("lives at least the longest abort timeout (15 min) plus a margin", () => {
    expect(ATTEMPT_CREDENTIAL_TTL_MS).toBeGreaterThan(15 * 60_000);
  });
});

describe("authenticateAttempt", () => {
  const token = credentials.issue(claims);
  /** The refusal's code and the status the checkpoint listener answers it with. */
  const refusal = (f: () => unknown): [number, string] | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      const { code } = e as RuntimeError;
      return [statusOfCode(code), code];
    }
  };

  test("accepts a credential of the partition's current epoch only", () => {
    expect(authenticateAttempt(credentials, () => claims.epoch, invocationId, token, 0)).toEqual(claims);
    expect(
      refusal(() => authenticateAttempt(credentials, () => claims.epoch + 1, invocationId, token, 0)),
    ).toEqual([409, "INVOKE_STALE_ATTEMPT"]);
    expect(refusal(() => authenticateAttempt(credentials, () => undefined, invocationId, token, 0))).toEqual([
      409,
      "INVOKE_STALE_ATTEMPT",
    ]);
  });

  test("one code for every forgery, another for expiry", () => {
    const epoch = (): number => claims.epoch;
    expect(refusal(() => authenticateAttempt(credentials, epoch, "inv_x", token, 0))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    // A genuine MAC over a partition the id does not name is still refused.
    const otherPartition = credentials.issue({ ...claims, partition: 2 });
    expect(refusal(() => authenticateAttempt(credentials, epoch, invocationId, otherPartition, 0))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    expect(refusal(() => authenticateAttempt(credentials, epoch, invocationId, token, 5_000))).toEqual([
      401,
      "CHECKPOINT_CREDENTIAL_EXPIRED",
    ]);
  });
});
