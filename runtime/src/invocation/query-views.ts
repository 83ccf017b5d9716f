/** Rows of the read-only SQL tables, built from the partitions' current state at query time. */
import type { PartitionState } from "../core/state";
import { invocationRow, journalRows, stateRows, type SqlViews } from "../server/sql-schema";
import { summarize } from "./summarize";

export function buildQueryViews(states: PartitionState[]): SqlViews {
  const views: SqlViews = { invocations: [], journal: [], state: [] };
  for (const s of states) {
    for (const inv of s.invocations.values()) {
      views.invocations.push(invocationRow(summarize(inv, s)));
      for (const row of journalRows(inv.id, inv.journal)) views.journal.push(row);
    }
    for (const [objKey, values] of s.objectState) {
      const slash = objKey.indexOf("/");
      for (const row of stateRows(
        objKey.slice(0, slash),
        objKey.slice(slash + 1),
        Object.fromEntries(values),
      )) {
        views.state.push(row);
      }
    }
  }
  return views;
}
