/**
 * Random bytes for ids, drawn from a pooled buffer: one `randomFillSync` per 4 KiB instead of one
 * per id (each call enters OpenSSL's DRBG, a cost the ingress paid twice per request).
 */
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

function take(bytes: number): number {
  if (bytes > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} random bytes at once`);
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

/** `bytes` cryptographically random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  const at = take(bytes);
  return pool.toString("hex", at, at + bytes);
}

/** A uniformly random integer in [0, 65536). */
export function randomUint16(): number {
  return pool.readUInt16BE(take(2));
}
