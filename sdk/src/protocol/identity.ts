/**
 * Request identity: the runtime signs every message it sends to a deployment, and an SDK configured
 * with the runtime's public keys refuses any message that is not signed by one of them — so a
 * principal that may invoke the function (or reach the container) cannot drive handlers itself.
 *
 * The signature is a JWT (EdDSA / Ed25519, as Restate's `x-restate-jwt-v1`) in the message's
 * `identity` field, first in the JSON text. Its claims:
 * - `aud`: `/discover`, or `/invoke/{service}/{handler}` (segments percent-encoded);
 * - `iat` (now), `nbf` (now − 60 s), `exp` (now + 60 s), in seconds;
 * - `dig`: base64url(SHA-256) of the message's JSON without the `identity` field, so the signature
 *   covers the invocation id, attempt, credential, input, journal and state: a captured message
 *   cannot be replayed with another body. The digest is over `JSON.stringify` of the parsed message
 *   without `identity`, which reproduces the bytes the runtime hashed (it sends `JSON.stringify` output).
 * The header's `kid` is the signing key's public key string, so a refusal names the key.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { ProtocolError } from "./errors";

/** The message field carrying the JWT. */
export const IDENTITY_FIELD = "identity";
/** Public keys as configured and printed: this prefix, then base64url of the 32-byte Ed25519 key. */
export const IDENTITY_PUBLIC_KEY_PREFIX = "capstanpk1_";
/** `nbf` and `exp` are this far before and after `iat`: the clock skew tolerated both ways. */
export const IDENTITY_SKEW_SECONDS = 60;
/** A longer `identity` is refused before it is parsed; a real one is about 400 characters. */
export const MAX_IDENTITY_LENGTH = 2048;

export interface IdentityClaims {
  aud: string;
  iat: number;
  nbf: number;
  exp: number;
  dig: string;
}

/** An accepted public key: its printed form (`kid`) and the key. */
export interface IdentityPublicKey {
  id: string;
  key: KeyObject;
}

/** The audience of a message: what the signature is for. */
export function identityAudience(message: {
  type: string;
  target?: { service: string; handler: string };
}): string {
  if (message.type === "invoke" && message.target !== undefined)
    return `/invoke/${encodeURIComponent(message.target.service)}/${encodeURIComponent(message.target.handler)}`;
  return `/${message.type}`;
}

/** base64url(SHA-256(json)). */
export function messageDigest(json: string): string {
  return createHash("sha256").update(json, "utf8").digest("base64url");
}

/** The printed form of an Ed25519 public key. */
export function formatIdentityPublicKey(key: KeyObject): string {
  const x = (key.export({ format: "jwk" }) as { x?: string }).x;
  if (key.asymmetricKeyType !== "ed25519" || x === undefined) throw new TypeError("not an Ed25519 key");
  return IDENTITY_PUBLIC_KEY_PREFIX + x;
}

/** Parses a printed public key; throws TypeError naming the problem (never echoing more than the key). */
export function parseIdentityPublicKey(text: string): IdentityPublicKey {
  const id = text.trim();
  const x = id.startsWith(IDENTITY_PUBLIC_KEY_PREFIX) ? id.slice(IDENTITY_PUBLIC_KEY_PREFIX.length) : "";
  if (!/^[A-Za-z0-9_-]{43}$/.test(x))
    throw new TypeError(
      `not a Capstan identity public key (${IDENTITY_PUBLIC_KEY_PREFIX}…): ${id.slice(0, 80)}`,
    );
  return { id, key: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }) };
}

/** The JWT for `claims`, signed with an Ed25519 private key. */
export function signIdentity(privateKey: KeyObject, kid: string, claims: IdentityClaims): string {
  const header = b64(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid }));
  const payload = b64(JSON.stringify(claims));
  const signature = sign(null, Buffer.from(`${header}.${payload}`), privateKey).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

/** Claims for a message signed at `nowMs`. */
export function identityClaims(aud: string, dig: string, nowMs: number): IdentityClaims {
  const iat = Math.floor(nowMs / 1000);
  return { aud, iat, nbf: iat - IDENTITY_SKEW_SECONDS, exp: iat + IDENTITY_SKEW_SECONDS, dig };
}

/**
 * Checks a parsed message's `identity` against the accepted keys; returns the message without it.
 * Throws ProtocolError PROTOCOL_IDENTITY_REJECTED saying why (unsigned, unknown key, bad signature,
 * wrong audience or body, outside its time window).
 */
export function verifyIdentity(
  message: unknown,
  keys: readonly IdentityPublicKey[],
  nowMs: number,
): Record<string, unknown> {
  if (typeof message !== "object" || message === null || Array.isArray(message))
    return reject("the message is not a JSON object");
  const { [IDENTITY_FIELD]: token, ...rest } = message as Record<string, unknown>;
  if (token === undefined) return reject("the message is not signed (no identity)");
  if (typeof token !== "string" || token.length > MAX_IDENTITY_LENGTH)
    return reject("the identity is not a JWT");
  const parts = token.split(".");
  if (parts.length !== 3) return reject("the identity is not a JWT");
  const [h, p, s] = parts as [string, string, string];
  const header = parseSegment(h) as { alg?: unknown; kid?: unknown } | undefined;
  if (header?.alg !== "EdDSA") return reject("the identity is not an EdDSA JWT");
  const key = keys.find((k) => k.id === header.kid);
  if (key === undefined)
    return reject(
      `signed by ${String(header.kid).slice(0, 80)}, which is not among the accepted keys (${keys.map((k) => k.id).join(", ")})`,
    );
  if (!verify(null, Buffer.from(`${h}.${p}`), key.key, Buffer.from(s, "base64url")))
    return reject("the identity's signature is not valid");
  const claims = parseSegment(p) as Partial<IdentityClaims> | undefined;
  const nowS = nowMs / 1000;
  if (typeof claims?.nbf !== "number" || typeof claims.exp !== "number" || typeof claims.iat !== "number")
    return reject("the identity lacks iat, nbf or exp");
  if (nowS < claims.nbf || nowS >= claims.exp || claims.exp - claims.nbf > 2 * IDENTITY_SKEW_SECONDS)
    return reject("the identity is outside its time window (are the clocks within 60 s?)");
  const aud = identityAudience(rest as { type: string; target?: { service: string; handler: string } });
  if (claims.aud !== aud) return reject(`the identity is for ${String(claims.aud)}, not ${aud}`);
  if (claims.dig !== messageDigest(JSON.stringify(rest)))
    return reject("the identity was signed for another message body");
  return rest;
}

function reject(why: string): never {
  throw new ProtocolError("PROTOCOL_IDENTITY_REJECTED", `request identity refused: ${why}`);
}

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

function parseSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
