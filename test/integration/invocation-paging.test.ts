/**
 * `GET /invocations` pages through every invocation of an embedded runtime (SQLite state files, four
 * partitions) with its cursor: nothing skipped, nothing twice, newest first even among invocations
 * created in the same millisecond; `status=failed` and a time range page the same way, filtered in
 * the store (no bound on how many are examined).
 */
import { service, TerminalError } from "@capstan/sdk";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

const job = service({
  name: "Job",
  handlers: {
    run: async (_ctx, n: number) => {
      if (n % 3 === 0) throw new TerminalError(`job ${n} fails`);
      return n;
    },
  },
});

interface Page {
  invocations: Array<{ id: string; createdAtMs: number; outcome?: string }>;
  nextCursor?: string;
}

let env: TestEnvironment;

beforeAll(async () => {
  // A manual clock: many invocations share a millisecond, so the id must break ties.
  env = await startTestEnvironment({ services: [job], time: "manual", partitions: 4 });
});
afterAll(async () => env.close());

async function list(query: string): Promise<Page> {
  const res = await fetch(`${env.adminUrl}/invocations?${query}`, {
    headers: { authorization: `Bearer ${env.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

async function everyPage(query: string): Promise<Page["invocations"]> {
  const out: Page["invocations"] = [];
  for (let cursor: string | undefined; ;) {
    const page = await list(`${query}${cursor === undefined ? "" : `&cursor=${cursor}`}`);
    out.push(...page.invocations);
    if (page.nextCursor === undefined) return out;
    cursor = page.nextCursor;
  }
}

async function runJobs(from: number, to: number): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let n = from; n < to; n++) ids.set(await env.send("Job", "run", n), n);
  await env.settle();
  return ids;
}

test("pages through every invocation once, newest first, and filters failed ones and time in the store", async () => {
  const early = await runJobs(0, 14);
  const startOfLate = env.clock!.nowMs() + 1_000;
  await env.advanceTime(1_000);
  const late = await runJobs(14, 23);
  const all = new Map([...early, ...late]);

  const listed = await everyPage("limit=4");
  expect(listed.map((i) => i.id).sort()).toEqual([...all.keys()].sort());
  for (let i = 1; i < listed.length; i++) {
    const [a, b] = [listed[i - 1]!, listed[i]!];
    expect(a.createdAtMs > b.createdAtMs || (a.createdAtMs === b.createdAtMs && a.id > b.id)).toBe(true);
  }

  const failed = await everyPage("status=failed&limit=3");
  const expectedFailed = [...all].filter(([, n]) => n % 3 === 0).map(([id]) => id);
  expect(failed.map((i) => i.id).sort()).toEqual(expectedFailed.sort());
  expect(failed.every((i) => i.outcome === "failed")).toBe(true);
  const succeeded = await everyPage("status=succeeded&limit=5");
  expect(succeeded).toHaveLength(all.size - expectedFailed.length);

  const lateOnly = await everyPage(`from=${startOfLate}&limit=2`);
  expect(lateOnly.map((i) => i.id).sort()).toEqual([...late.keys()].sort());
  const earlyOnly = await everyPage(`to=${new Date(startOfLate).toISOString()}&limit=100`);
  expect(earlyOnly.map((i) => i.id).sort()).toEqual([...early.keys()].sort());
});
