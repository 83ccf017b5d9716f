import type { Effect } from "./effects";
import type { PartitionState } from "./state";

/**
 * What every record handler works on: the state it mutates, the record's time (the only clock `apply`
 * knows) and the effects collected so far, in the order the processor must perform them.
 */
export interface ApplyContext {
  readonly state: PartitionState;
  readonly atMs: number;
  readonly effects: Effect[];
}
