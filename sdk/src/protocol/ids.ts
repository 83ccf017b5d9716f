import { ProtocolError } from "./errors";

declare const invocationIdBrand: unique symbol;
/** `inv_{partition}_{unique}`: the partition is embedded so any node can route by id alone. */
export type InvocationId = string & { readonly [invocationIdBrand]: true };

const INVOCATION_ID = /^inv_([0-9]{1,4})_([0-9A-Za-z]{8,40})$/;

export function formatInvocationId(partition: number, unique: string): InvocationId {
  return parseInvocationId(`inv_${partition}_${unique}`);
}

/** Parses once at the edge; throws PROTOCOL_INVALID_MESSAGE for anything else. */
export function parseInvocationId(value: string): InvocationId {
  if (!INVOCATION_ID.test(value)) {
    throw new ProtocolError("PROTOCOL_INVALID_MESSAGE", `not an invocation id: ${JSON.stringify(value)}`);
  }
  return value as InvocationId;
}

export function isInvocationId(value: unknown): value is InvocationId {
  return typeof value === "string" && INVOCATION_ID.test(value);
}

export function partitionOfInvocationId(id: InvocationId): number {
  return Number(INVOCATION_ID.exec(id)![1]);
}

/** Awakeable ids name the invocation and the journal entry they complete: `awk_{invocationId}_{index}`. */
export function formatAwakeableId(invocationId: InvocationId, entryIndex: number): string {
  return `awk_${invocationId}_${entryIndex}`;
}

const AWAKEABLE_ID = /^awk_(inv_[0-9]{1,4}_[0-9A-Za-z]{8,40})_([0-9]{1,6})$/;

export function parseAwakeableId(value: string): { invocationId: InvocationId; entryIndex: number } {
  const m = AWAKEABLE_ID.exec(value);
  if (!m)
    throw new ProtocolError("PROTOCOL_INVALID_MESSAGE", `not an awakeable id: ${JSON.stringify(value)}`);
  return { invocationId: m[1] as InvocationId, entryIndex: Number(m[2]) };
}
