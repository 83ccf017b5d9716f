/**
 * Makes the runtime's ids come from the seed: the pool behind invocation ids and random partition
 * choices (runtime/src/invocation/random-pool.ts) is filled from `random` instead of the OS, so a
 * seed replays the same ids, the same partitions and therefore the same interleavings.
 */
import crypto from "node:crypto";

/** Returns the function that gives `randomFillSync` back to the OS. */
export function seedRandomFill(random: () => number): () => void {
  const spy = jest.spyOn(crypto, "randomFillSync").mockImplementation((buffer: NodeJS.ArrayBufferView) => {
    const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
    return buffer;
  });
  return () => spy.mockRestore();
}
