import { objectKey } from "../state";
import { Harness, rec } from "../test-support/builders";

describe("patch-state", () => {
  it("applies clearAll, then clear, then set, and drops an emptied key", () => {
    const h = new Harness();
    const key = objectKey("Obj", "k");
    h.apply(rec.patchState("Obj", "k", { set: { a: "1", b: "2", c: "3" } }));
    expect(h.state.objectState.get(key)).toEqual(
      new Map([
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
      ]),
    );

    h.apply(rec.patchState("Obj", "k", { clear: ["a"], set: { b: "20" } }));
    expect(h.state.objectState.get(key)).toEqual(
      new Map([
        ["b", "20"],
        ["c", "3"],
      ]),
    );

    h.apply(rec.patchState("Obj", "k", { clearAll: true, set: { z: "26" } }));
    expect(h.state.objectState.get(key)).toEqual(new Map([["z", "26"]]));

    const effects = h.apply(rec.patchState("Obj", "k", { clear: ["z"] }));
    expect(effects).toEqual([]);
    expect(h.state.objectState.has(key)).toBe(false);
  });
});
