/**
 * Attempt credentials: what lets a handler attempt (and nobody else) write to its invocation's
 * journal through the checkpoint endpoint. A credential is an HMAC-SHA256, keyed by a runtime secret,
 * over the partition, invocation id, attempt, leadership epoch and expiry, sent beside those fields:
 *
 *   v1.{partition}.{attempt}.{epoch}.{expiresAtMs}.{base64url(HMAC(key, "v1|p|invocationId|attempt|epoch|exp"))}
 *
 * The invocation id is not repeated in the token: the checkpoint names it, and the MAC covers it, so a
 * credential moved to another invocation fails. Whether the attempt and epoch are still current is
 * the caller's check against state (a valid but superseded credential is a stale attempt, not a forgery).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const ATTEMPT_CREDENTIAL_VERSION = "v1";
/** The MAC key's minimum size (HMAC-SHA256's block-size guidance: at least the hash's 32 bytes). */
export const MIN_ATTEMPT_KEY_BYTES = 32;
/**
 * How long a credential is accepted after it was issued: the longest abort timeout of an attempt
 * (MAX_ABORT_TIMEOUT_MS, 15 min, Lambda's limit) plus a margin for a checkpoint's long-poll and clock
 * steps. An attempt never legitimately checkpoints after its abort timeout.
 */
export const ATTEMPT_CREDENTIAL_TTL_MS = 15 * 60_000 + 5 * 60_000;

export interface AttemptClaims {
  partition: number;
  invocationId: string;
  attempt: number;
  epoch: number;
  expiresAtMs: number;
}

/** Why a credential is refused; the caller maps each to an HTTP answer. */
export type CredentialProblem = "invalid" | "expired";

/** Anchored, every part bounded: a token of any length is refused in time linear in its length. */
const TOKEN = /^v1\.([0-9]{1,5})\.([0-9]{1,9})\.([0-9]{1,16})\.([0-9]{1,16})\.([A-Za-z0-9_-]{43})$/;

/**
 * @example
 * const credentials = new AttemptCredentials(randomBytes(32));
 * const token = credentials.issue({ partition: 3, invocationId, attempt: 1, epoch, expiresAtMs });
 * credentials.verify(token, invocationId, Date.now()); // → the claims, or "invalid" / "expired"
 */
export class AttemptCredentials {
  constructor(private readonly key: Buffer) {
    if (key.length < MIN_ATTEMPT_KEY_BYTES)
      throw new RangeError(`an attempt key needs at least ${MIN_ATTEMPT_KEY_BYTES} bytes, got ${key.length}`);
  }

  issue(c: AttemptClaims): string {
    return `${ATTEMPT_CREDENTIAL_VERSION}.${c.partition}.${c.attempt}.${c.epoch}.${c.expiresAtMs}.${this.mac(c).toString("base64url")}`;
  }

  /** The claims of a genuine, unexpired credential for `invocationId`; checked in constant time. */
  verify(token: unknown, invocationId: unknown, nowMs: number): AttemptClaims | CredentialProblem {
    if (typeof token !== "string" || typeof invocationId !== "string") return "invalid";
    const m = TOKEN.exec(token);
    if (m === null) return "invalid";
    const claims: AttemptClaims = {
      partition: Number(m[1]),
      invocationId,
      attempt: Number(m[2]),
      epoch: Number(m[3]),
      expiresAtMs: Number(m[4]),
    };
    // Compared as text: decoding base64 would accept several spellings of one MAC (unused low bits).
    const given = Buffer.from(m[5]!, "latin1");
    const expected = Buffer.from(this.mac(claims).toString("base64url"), "latin1");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "invalid";
    // Only a genuine credential can be "expired": a forged one never learns which fields were wrong.
    if (nowMs >= claims.expiresAtMs) return "expired";
    return claims;
  }

  private mac(c: AttemptClaims): Buffer {
    return createHmac("sha256", this.key)
      .update(
        `${ATTEMPT_CREDENTIAL_VERSION}|${c.partition}|${c.invocationId}|${c.attempt}|${c.epoch}|${c.expiresAtMs}`,
      )
      .digest();
  }
}
