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

    it("pages each SQL table's rows by cursor: the rows the stream gives, at most maxRows per page", async () => {
      const ids = [invId(2, 1), invId(2, 2), invId(2, 3)];
      for (const id of ids)
        await router.append(2, { kind: "invoke", invocation: newInvocation(id) }, "external");
      // Two journal rows for one invocation, three state rows for one object: a page can stop inside one.
      await router.append(2, rec.entries(ids[1]!, 1, [e.sleep(1, 5_000)], outcome.suspended(1)), "internal");
      for (const [key, set] of [
        ["a", { x: "1", y: "2", z: "3" }],
        ["b", { x: "4" }],
      ] as const)
        await router.append(
          2,
          { kind: "patch-state", service: "Obj", key, set, clear: [], clearAll: false },
          "external",
        );
      const view = router.view(2);
      for (const table of ["invocations", "journal", "state"] as const) {
        const streamed: unknown[] = [];
        for await (const chunk of view.sqlRows(new Set([table]), 100)) streamed.push(...chunk.rows);
        for (const [maxRows, maxBytes] of [
          [1, 1_000_000],
          [2, 1_000_000],
          [100, 1],
        ] as const) {
          const paged: unknown[] = [];
          let after;
          for (let pages = 0; ; pages++) {
            const page = await view.sqlRowsPage(table, after, maxRows, maxBytes);
            expect(page.rows.length).toBeLessThanOrEqual(maxBytes === 1 ? 1 : maxRows);
            expect(page.rows.length).toBeGreaterThan(0);
            paged.push(...page.rows);
            if (page.next === undefined) break;
            after = page.next;
            expect(pages).toBeLessThan(streamed.length);
          }
          expect(paged.map((r) => JSON.stringify(r)).sort()).toEqual(
            streamed.map((r) => JSON.stringify(r)).sort(),
          );
        }
        expect(streamed.length).toBe({ invocations: 3, journal: 4, state: 4 }[table]);
      }
      // A row written after a page's cursor is on a later page; an empty partition is one empty page.
      const first = await view.sqlRowsPage("state", undefined, 1, 1_000_000);
      await router.append(
        2,
        { kind: "patch-state", service: "Obj", key: "a", set: { zz: "9" }, clear: [], clearAll: false },
        "external",
      );
      const rest: unknown[] = [];
      for (let after = first.next; after !== undefined;) {
        const page = await view.sqlRowsPage("state", after, 1, 1_000_000);
        rest.push(...page.rows);
        after = page.next;
      }
      expect(rest).toHaveLength(4);
      expect(rest).toContainEqual({ service: "Obj", key: "a", state_key: "zz", value: "9" });
      expect(await router.view(3).sqlRowsPage("journal", undefined, 5, 1_000_000)).toEqual({ rows: [] });
      // More items than one store read takes: pages of 17 and of all 40 see each invocation once.
      for (let n = 1; n <= 40; n++)
        await router.append(0, { kind: "invoke", invocation: newInvocation(invId(0, n)) }, "external");
      for (const maxRows of [17, 100]) {
        const ids: unknown[] = [];
        let after;
        do {
          const page = await router.view(0).sqlRowsPage("invocations", after, maxRows, 1_000_000);
          ids.push(...page.rows.map((r) => r.id));
          after = page.next;
        } while (after !== undefined);
        expect(new Set(ids).size).toBe(40);
        expect(ids).toHaveLength(40);
      }
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
