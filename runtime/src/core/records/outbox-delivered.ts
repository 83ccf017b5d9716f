import type { ApplyContext } from "../context";
import type { RecordOf } from "../records";

/** `outbox-delivered`: the receiving partition applied our messages up to `upToSeq`; forget them. */
export function applyOutboxDelivered(cx: ApplyContext, record: RecordOf<"outbox-delivered">): void {
  const { toPartition, upToSeq } = record;
  cx.state.outbox = cx.state.outbox.filter(
    (entry) => entry.toPartition !== toPartition || entry.seq > upToSeq,
  );
}
