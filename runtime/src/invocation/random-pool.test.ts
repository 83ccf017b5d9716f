import { randomHex, randomUint16 } from "./random-pool";

describe("random pool", () => {
  test("hex ids have the asked length and do not repeat across pool refills", () => {
    const seen = new Set<string>();
    // 12-byte ids: 341 per 4 KiB pool, so 2000 ids cross several refills.
    for (let i = 0; i < 2000; i++) {
      const id = randomHex(12);
      expect(id).toMatch(/^[0-9a-f]{24}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });

  test("uint16 values cover their range", () => {
    let low = 0;
    let high = 0;
    for (let i = 0; i < 4000; i++) {
      const n = randomUint16();
      expect(Number.isInteger(n) && n >= 0 && n < 65536).toBe(true);
      if (n < 32768) low++;
      else high++;
    }
    // Both halves drawn: a constant or a stuck pool would put everything in one.
    expect(low).toBeGreaterThan(1000);
    expect(high).toBeGreaterThan(1000);
  });

  test("a request larger than the pool is refused", () => {
    expect(() => randomHex(4097)).toThrow(RangeError);
  });
});
