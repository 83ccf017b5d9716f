import type { Effect } from "./effects";
import type { StateTx } from "./state-tx";

/**
 * What every record handler works on: the batch's view of the state (reads and writes), the record's time (the only clock `apply`
 * knows) and the effects collected so far, in the order the processor must perform them.
 */
export interface ApplyContext {
  readonly state: StateTx;
  readonly atMs: number;
  readonly effects: Effect[];
}
