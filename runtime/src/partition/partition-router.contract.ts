/**
 * The behaviour every PartitionRouter must have, run by each implementation's test (this node's
 * processors; later a router that reaches partitions led by other nodes).
 */
import { e, exclusive, invId, newInvocation, outcome, rec, workflowRun } from "../core/test-support/builders";
import type { PartitionRouter } from "./partition-router";

export interface PartitionRouterFixture {
  router: PartitionRouter;
  /** Another writer appends to the partition's log, so its current leader must stop. */
  takeOver(partition: number): Promise<void>;
  /** Stops whatever runs and deletes the data. */
  cleanup(): Promise<void>;
}

export function describePartitionRouterContract(
  name: string,
  makeRouter: (partitions: number) => Promise<PartitionRouterFixture>,
): void {
  describe(`PartitionRouter contract: ${name}`, () => {
    const partitions = 4;
    let fixture: PartitionRouterFixture;
    let router: PartitionRouter;
    beforeEach(async () => {
      fixture = await makeRouter(partitions);
      router = fixture.router;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it("applies an appended record before resolving, and the partition's view answers what it changed", async () => {
      const id = invId(1, 1);
      const keyed = invId(1, 2);
      const run = invId(1, 3);

      const effects = await router.append(1, { kind: "invoke", invocation: newInvocation(id) }, "external");
      await router.append(
        1,
        { kind: "invoke", invocation: exclusive(keyed, "k", { idempotencyKey: "once" }) },
        "external",
      );
      await router.append(1, { kind: "invoke", invocation: workflowRun(run, "w1") }, "internal");
      await router.append(
        1,
        { kind: "patch-state", service: "Obj", key: "k", set: { count: "7" }, clear: [], clearAll: false },
        "external",
      );

      expect(effects).toContainEqual(
        expect.objectContaining({ kind: "invocation-accepted", invocationId: id }),
      );
      const view = router.view(1);
      const journal = [{ index: 0, kind: "input", value: '"in"' }];
      expect(await view.invocation(id)).toMatchObject({ id, status: "running", journal });
      expect(await router.view(2).invocation(id)).toBeUndefined();
      expect(await view.describe(id)).toMatchObject({ id, status: "running", journal, awaiting: [] });
      expect((await view.listInvocations({ limit: 10 })).map((s) => s.id).sort()).toEqual(
        [id, keyed, run].sort(),
      );
      expect((await view.listInvocations({ service: "Obj", key: "k", limit: 10 })).map((s) => s.id)).toEqual([
        keyed,
      ]);
      expect(await view.listInvocations({ limit: 1 })).toHaveLength(1);
      expect((await view.countByStatus()).get("running")).toBe(3);
      expect(await view.objectState("Obj", "k")).toEqual(new Map([["count", "7"]]));
      expect(await view.objectState("Obj", "other")).toEqual(new Map());
      expect(await view.idempotentInvocation({ service: "Obj", handler: "add", key: "k" }, "once")).toBe(
        keyed,
      );
      expect(await view.workflowInvocation("Wf", "w1")).toBe(run);
      expect(await view.workflowInvocation("Wf", "w2")).toBeUndefined();
      const rows = { invocations: 0, journal: 0, state: 0 };
      for await (const chunk of view.sqlRows(new Set(["invocations", "journal", "state"] as const), 2)) {
        expect(chunk.rows.length).toBeLessThanOrEqual(2);
        rows[chunk.table] += chunk.rows.length;
      }
      expect(rows).toEqual({ invocations: 3, journal: 3, state: 1 });
      // A sleep's timer, paged in due order (what the timer service reads instead of holding all).
      await router.append(1, rec.entries(id, 1, [e.sleep(1, 5_000)], outcome.suspended(1)), "internal");
      const timers = await view.timersPage(undefined, 10);
      expect(timers).toEqual([expect.objectContaining({ id: `sleep:${id}:1`, kind: "sleep" })]);
      expect(await view.timersPage(undefined, 1)).toEqual(timers);
      expect(await view.timersPage(timers[0], 10)).toEqual([]);
      expect(router.health(1)).toMatchObject({
        state: "leading",
        pendingRecords: 0,
        epoch: expect.any(Number),
      });
    });

    it("stops a partition whose log another writer took: its appends are refused, the others go on", async () => {
      await router.append(2, { kind: "invoke", invocation: newInvocation(invId(2, 1)) }, "external");

      await fixture.takeOver(2);
      const refused = await router
        .append(2, { kind: "invoke", invocation: newInvocation(invId(2, 2)) }, "external")
        .catch((e: unknown) => e);
      const again = await router
        .append(2, { kind: "invoke", invocation: newInvocation(invId(2, 3)) }, "internal")
        .catch((e: unknown) => e);

      expect(refused).toMatchObject({ code: "RUNTIME_PARTITION_UNAVAILABLE" });
      expect(again).toMatchObject({ code: "RUNTIME_PARTITION_UNAVAILABLE" });
      expect(router.health(2)).toMatchObject({
        state: "stopped",
        reason: expect.stringContaining("CONFLICT"),
      });
      expect(await router.view(2).invocation(invId(2, 2))).toBeUndefined();
      await router.append(3, { kind: "invoke", invocation: newInvocation(invId(3, 1)) }, "external");
      expect(router.health(3)).toMatchObject({ state: "leading" });
    });

    it("refuses a partition number it does not have", async () => {
      await expect(
        router.append(partitions, { kind: "invoke", invocation: newInvocation(invId(0, 1)) }, "external"),
      ).rejects.toMatchObject({ code: "RUNTIME_PARTITION_UNAVAILABLE" });
      expect(router.health(partitions)).toMatchObject({ state: "stopped" });
    });
  });
}
