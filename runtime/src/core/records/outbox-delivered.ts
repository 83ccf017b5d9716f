import type { ApplyContext } from "../context";
import type { RecordOf } from "../records";

/** `outbox-delivered`: the receiving partition applied our messages up to `upToSeq`; forget them. */
export function applyOutboxDelivered(cx: ApplyContext, record: RecordOf<"outbox-delivered">): void {
  const { toPartition, upToSeq } = record;
  for (const entry of cx.state.outboxUpTo(toPartition, upToSeq)) cx.state.deleteOutbox(entry.seq);
}
