/** Rows of the read-only SQL tables, gathered from every partition's view at query time. */
import type { PartitionRouter } from "../partition/partition-router";
import type { SqlViews } from "../server/sql-schema";

export async function buildQueryViews(router: PartitionRouter): Promise<SqlViews> {
  const views: SqlViews = { invocations: [], journal: [], state: [] };
  for (let p = 0; p < router.partitions; p++) {
    const rows = await router.view(p).sqlRows();
    for (const row of rows.invocations) views.invocations.push(row);
    for (const row of rows.journal) views.journal.push(row);
    for (const row of rows.state) views.state.push(row);
  }
  return views;
}
