import { formatInvocationId, isInvocationId, partitionOfInvocationId } from "@capstan/sdk/protocol";
import fc from "fast-check";
import { childInvocationId, fnv1a32, partitionFor } from "./partitioning";

const parent = formatInvocationId(3, "parent0001");
const never = (): number => {
  throw new Error("must not be asked");
};

describe("partitioning", () => {
  it("implements FNV-1a 32 over UTF-8 (reference vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(fnv1a32("é")).toBe(fnv1a32("\u00e9"));
  });

  it("places keyed targets by service and key, idempotent ones by service, handler and key", () => {
    const keyed = partitionFor({ service: "Cart", handler: "add", key: "u1" }, "idem", 16, never);
    expect(keyed).toBe(fnv1a32("Cart\0u1") % 16);
    expect(partitionFor({ service: "Cart", handler: "checkout", key: "u1" }, undefined, 16, never)).toBe(
      keyed,
    );
    expect(partitionFor({ service: "Mail", handler: "send" }, "k", 16, never)).toBe(
      fnv1a32("Mail\0send\0k") % 16,
    );
    expect(partitionFor({ service: "Mail", handler: "send" }, undefined, 16, () => 11)).toBe(11);
    expect(() => partitionFor({ service: "Mail", handler: "send" }, undefined, 0, () => 0)).toThrow();
  });

  it("derives child ids deterministically, uniquely per entry, on the target's partition", () => {
    fc.assert(
      fc.property(
        fc.nat(1_000),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        fc.integer({ min: 1, max: 64 }),
        (index, key, idem, partitions) => {
          const target = { service: "Obj", handler: "h", key };
          const id = childInvocationId(parent, index, target, idem, partitions);
          expect(isInvocationId(id)).toBe(true);
          expect(childInvocationId(parent, index, target, idem, partitions)).toBe(id);
          expect(childInvocationId(parent, index + 1, target, idem, partitions)).not.toBe(id);
          expect(partitionOfInvocationId(id)).toBe(fnv1a32(`Obj\0${key}`) % partitions);
        },
      ),
    );
    const unkeyed = childInvocationId(parent, 1, { service: "S", handler: "h" }, undefined, 16);
    expect(partitionOfInvocationId(unkeyed)).toBeLessThan(16);
  });
});
