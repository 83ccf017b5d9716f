/** Typed access to the result of completable journal entries. */
import type {
  AttachEntry,
  AwakeableEntry,
  CallEntry,
  Completion,
  GetStateEntry,
  GetStateKeysEntry,
  JournalEntry,
  PromiseCompleteEntry,
  PromiseGetEntry,
  PromisePeekEntry,
  RunEntry,
  SleepEntry,
} from "@capstan/sdk/protocol";
import { COMPLETABLE_KINDS } from "@capstan/sdk/protocol";

export type CompletableEntry =
  | RunEntry
  | SleepEntry
  | CallEntry
  | GetStateEntry
  | GetStateKeysEntry
  | AwakeableEntry
  | PromiseGetEntry
  | PromisePeekEntry
  | PromiseCompleteEntry
  | AttachEntry;

export function isCompletableEntry(entry: JournalEntry): entry is CompletableEntry {
  return COMPLETABLE_KINDS.has(entry.kind);
}

/** The entry's result; undefined for pending or non-completable entries. */
export function resultOf(entry: JournalEntry | undefined): Completion | undefined {
  if (entry === undefined) return undefined;
  if (entry.kind === "output") return entry.result;
  return isCompletableEntry(entry) ? entry.result : undefined;
}
