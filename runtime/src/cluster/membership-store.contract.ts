/**
 * The behaviour every MembershipStore must have, run by each implementation's test; liveness is
 * judged through it with a fake clock, as a node does.
 */
import { ManualClock } from "../testing/manual-clock";
import { LivenessTracker } from "./liveness";
import type { MembershipStore } from "./membership-store";

export interface MembershipStoreFixture {
  /** A store for one node; several share the same data (one table). */
  open(): Promise<MembershipStore>;
  cleanup(): Promise<void>;
}

const LEASE_MS = 10_000;
const node = (nodeId: string): { nodeId: string; address: string; pid: number } => ({
  nodeId,
  address: `http://127.0.0.1:90${nodeId.length}`,
  pid: 1000 + nodeId.length,
});

export function describeMembershipStoreContract(
  name: string,
  makeFixture: () => Promise<MembershipStoreFixture>,
): void {
  describe(`MembershipStore contract: ${name}`, () => {
    let fixture: MembershipStoreFixture;
    beforeEach(async () => {
      fixture = await makeFixture();
    });
    afterEach(() => fixture.cleanup());

    it("counts heartbeats per node and lists every node with its address and pid", async () => {
      const a = await fixture.open();
      const b = await fixture.open();
      expect(await a.nodes()).toEqual([]);

      expect(await a.heartbeat(node("a"))).toBe(1);
      expect(await a.heartbeat(node("a"))).toBe(2);
      await b.heartbeat(node("bb"));

      expect(await b.nodes()).toEqual([
        { ...node("a"), counter: 2 },
        { ...node("bb"), counter: 1 },
      ]);
      await expect(a.heartbeat(node(""))).rejects.toThrow(RangeError);
      await expect(a.heartbeat(node("has space"))).rejects.toThrow(RangeError);
    });

    it("judges a node dead once its counter stood still for the lease on the observer's clock", async () => {
      const a = await fixture.open();
      const b = await fixture.open();
      const clock = new ManualClock(0);
      const seenByA = new LivenessTracker(LEASE_MS, clock);
      await a.heartbeat(node("a"));
      await b.heartbeat(node("bb"));
      seenByA.observe(await a.nodes());

      clock.advanceBy(LEASE_MS - 1);
      await a.heartbeat(node("a"));
      seenByA.observe(await a.nodes());
      expect(seenByA.live()).toEqual(["a", "bb"]); // bb's lease has 1 ms left

      clock.advanceBy(1);
      seenByA.observe(await a.nodes());
      expect(seenByA.live()).toEqual(["a"]);

      await b.heartbeat(node("bb")); // it was only paused: it comes back with its next heartbeat
      seenByA.observe(await a.nodes());
      expect(seenByA.live()).toEqual(["a", "bb"]);
    });

    it("forgets a node that left, at once", async () => {
      const a = await fixture.open();
      const b = await fixture.open();
      const seenByA = new LivenessTracker(LEASE_MS, new ManualClock(0));
      await a.heartbeat(node("a"));
      await b.heartbeat(node("bb"));
      seenByA.observe(await a.nodes());

      await b.leave("bb");
      seenByA.observe(await a.nodes());

      expect(seenByA.live()).toEqual(["a"]);
      expect((await a.nodes()).map((n) => n.nodeId)).toEqual(["a"]);
    });
  });
}
