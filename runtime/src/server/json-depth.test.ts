import fc from "fast-check";
import { jsonDepthExceeds } from "./json-depth";

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (typeof v === "object" && v !== null) return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

describe("jsonDepthExceeds", () => {
  it("counts nesting exactly at the limit, ignoring brackets and escaped quotes inside strings", () => {
    expect(jsonDepthExceeds("1", 0)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1]}', 2)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1]}', 1)).toBe(true);
    expect(jsonDepthExceeds('["[[[\\"[[", {"}}": "\\\\"}]', 2)).toBe(false);
    expect(jsonDepthExceeds('["[[[\\"[[", {"}}": "\\\\"}]', 1)).toBe(true);
  });

  it("agrees with the parsed value's depth for any JSON", () => {
    fc.assert(
      fc.property(fc.json({ depthSize: "medium" }), fc.nat(12), (text, limit) => {
        expect(jsonDepthExceeds(text, limit)).toBe(depthOf(JSON.parse(text)) > limit);
      }),
    );
  });
});
