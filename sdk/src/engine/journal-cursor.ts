import type { JournalEntry } from "../protocol";
import { MAX_JOURNAL_ENTRIES, entryLabel } from "../protocol";
import { NonDeterminismError } from "../errors/non-determinism-error";
import { TerminalError } from "../errors/terminal-error";
import { withCode } from "../errors/sdk-error-codes";

/** How an entry is shown in NonDeterminismError: `run("charge")`, `sleep()`. */
export function describeEntry(entry: JournalEntry): string {
  return `${entry.kind}(${JSON.stringify(entryLabel(entry))})`;
}

/**
 * The journal of one attempt: the recorded prefix from the request, then the entries this attempt adds.
 * Each command takes the next index; while the index is inside the recorded prefix the command must
 * match the recorded entry by kind and label, never by kind alone or by position alone.
 */
export class JournalCursor {
  readonly entries: JournalEntry[];
  readonly recordedLength: number;
  private next = 1; // entry 0 is the input

  constructor(recorded: readonly JournalEntry[]) {
    this.entries = [...recorded];
    this.recordedLength = recorded.length;
  }

  get nextIndex(): number {
    return this.next;
  }

  /** True while commands are still matched against recorded entries. */
  get replaying(): boolean {
    return this.next < this.recordedLength;
  }

  /**
   * Takes the next index for `command` (its `index` is ignored). Returns the recorded entry when
   * replaying, else appends `command` as a new entry. Throws NonDeterminismError on divergence.
   */
  take<E extends JournalEntry>(command: E): { entry: E; recorded: boolean } {
    const index = this.next;
    if (index >= MAX_JOURNAL_ENTRIES) {
      throw new TerminalError(
        withCode("SDK_JOURNAL_LIMIT", `journal would exceed MAX_JOURNAL_ENTRIES (${MAX_JOURNAL_ENTRIES})`),
      );
    }
    const actual = { ...command, index };
    if (index < this.recordedLength) {
      const recorded = this.entries[index]!;
      if (recorded.kind !== actual.kind || entryLabel(recorded) !== entryLabel(actual)) {
        throw new NonDeterminismError(index, describeEntry(recorded), describeEntry(actual));
      }
      this.next++;
      return { entry: recorded as E, recorded: true };
    }
    this.entries.push(actual);
    this.next++;
    return { entry: actual, recorded: false };
  }

  /** A NonDeterminismError if the handler ended before replaying every recorded entry. */
  unreplayed(): NonDeterminismError | undefined {
    const rest = this.entries.slice(this.next, this.recordedLength).find((e) => e.kind !== "output");
    return rest && new NonDeterminismError(rest.index, describeEntry(rest), "the handler returned");
  }
}
