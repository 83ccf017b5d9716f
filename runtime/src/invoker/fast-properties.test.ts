import { withFastProperties } from "./fast-properties";
import { hasFastProperties } from "./test-support/has-fast-properties";

/** An object V8 keeps as a hash table: properties added one by one, past its fast-mode budget. */
function dictionaryObject(): Record<string, unknown> {
  const object: Record<string, unknown> = Object.create({ inherited: true }) as Record<string, unknown>;
  for (let i = 0; i < 48; i++) Object.assign(object, { [`p${i}`]: i });
  return object;
}

describe("withFastProperties", () => {
  it("moves a dictionary-mode object to fast mode and changes nothing a program can see", () => {
    const object = dictionaryObject();
    const before = { keys: Object.keys(object), proto: Object.getPrototypeOf(object) as unknown };
    expect(hasFastProperties(object)).toBe(false);

    expect(withFastProperties(object)).toBe(object);

    expect(hasFastProperties(object)).toBe(true);
    expect(Object.keys(object)).toEqual(before.keys);
    expect(Object.getPrototypeOf(object)).toBe(before.proto);
    expect({ ...object }).toEqual(Object.fromEntries(before.keys.map((k, i) => [k, i])));
    object.added = "later";
    expect(object.added).toBe("later");
  });
});
