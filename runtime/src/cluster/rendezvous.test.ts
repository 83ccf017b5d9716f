import fc from "fast-check";
import { assignPartitions, ownerOf } from "./rendezvous";

const nodeIds = fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 8 });

test("every partition goes to a live node, the same one whatever the order of the node list", () => {
  fc.assert(
    fc.property(nodeIds, fc.integer({ min: 1, max: 64 }), (nodes, partitions) => {
      const assignment = assignPartitions(partitions, nodes);
      expect(assignment.every((n) => n !== undefined && nodes.includes(n))).toBe(true);
      expect(assignPartitions(partitions, [...nodes].reverse())).toEqual(assignment);
    }),
  );
  expect(ownerOf(0, [])).toBeUndefined();
});

test("when a node leaves, only the partitions it led move", () => {
  fc.assert(
    fc.property(
      nodeIds.filter((n) => n.length >= 2),
      fc.nat(),
      (nodes, pick) => {
        const gone = nodes[pick % nodes.length]!;
        const before = assignPartitions(64, nodes);
        const after = assignPartitions(
          64,
          nodes.filter((n) => n !== gone),
        );
        before.forEach((owner, p) => {
          if (owner !== gone) expect(after[p]).toBe(owner);
          else expect(after[p]).not.toBe(gone);
        });
      },
    ),
  );
});

test("spreads partitions over the nodes", () => {
  const counts = new Map<string, number>();
  for (const owner of assignPartitions(300, ["node-a", "node-b", "node-c"])) {
    counts.set(owner!, (counts.get(owner!) ?? 0) + 1);
  }
  expect([...counts.values()].every((n) => n > 50)).toBe(true);
});
