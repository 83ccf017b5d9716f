/**
 * The lines functions printed under the local Lambda endpoint, by Capstan invocation: a ring per
 * invocation and a bound overall, so a chatty handler or a long `npm start` session cannot grow the
 * endpoint's memory. Past the bound of one invocation its oldest lines go; past the overall bound the
 * lines of the invocation that printed least recently go first. Read by the runtime's admin API
 * (`GET /invocations/:id/logs`) through the HandlerLogSource port (telemetry/handler-logs.ts).
 */
import type { HandlerLogLine, HandlerLogPage } from "../telemetry/handler-logs";

/** Lines kept per invocation (its newest). */
export const MAX_HANDLER_LOG_LINES_PER_INVOCATION = 2_000;
/** Lines kept over every invocation. */
export const MAX_HANDLER_LOG_LINES = 100_000;
/** Characters kept of one line; the rest is cut and marked. */
export const MAX_HANDLER_LOG_LINE_CHARS = 8_192;

const CUT_MARK = "…[cut]";

export interface HandlerLogBufferLimits {
  perInvocation: number;
  total: number;
}

/** One line as the execution environment reports it, before it gets its `seq`. */
export type CapturedLogLine = Omit<HandlerLogLine, "seq">;

interface InvocationLines {
  /** Lines from index `start` on are live; the prefix is compacted away now and then. */
  lines: HandlerLogLine[];
  start: number;
  dropped: number;
}

/** `text` cut to MAX_HANDLER_LOG_LINE_CHARS (with a mark), as the worker sends it. */
export function boundLogLine(text: string): string {
  return text.length <= MAX_HANDLER_LOG_LINE_CHARS
    ? text
    : text.slice(0, MAX_HANDLER_LOG_LINE_CHARS - CUT_MARK.length) + CUT_MARK;
}

/**
 * @example
 * const logs = new HandlerLogBuffer();
 * logs.append("inv_1…", { atMs: Date.now(), attempt: 1, stream: "stdout", text: "charging" });
 * logs.read("inv_1…", 0, 100); // { lines: [{ seq: 1, … }], dropped: 0 }
 */
export class HandlerLogBuffer {
  /** In order of last append: the first one is evicted first. */
  private readonly byInvocation = new Map<string, InvocationLines>();
  private total = 0;
  private nextSeq = 1;

  constructor(
    private readonly limits: HandlerLogBufferLimits = {
      perInvocation: MAX_HANDLER_LOG_LINES_PER_INVOCATION,
      total: MAX_HANDLER_LOG_LINES,
    },
  ) {}

  append(invocationId: string, line: CapturedLogLine): void {
    let entry = this.byInvocation.get(invocationId);
    if (entry === undefined) entry = { lines: [], start: 0, dropped: 0 };
    else this.byInvocation.delete(invocationId); // re-inserted last: the most recent writer
    this.byInvocation.set(invocationId, entry);
    entry.lines.push({ ...line, text: boundLogLine(line.text), seq: this.nextSeq++ });
    this.total += 1;
    if (entry.lines.length - entry.start > this.limits.perInvocation) this.dropOldest(invocationId, entry);
    while (this.total > this.limits.total) {
      const [oldestId, oldest] = this.byInvocation.entries().next().value!;
      this.dropOldest(oldestId, oldest);
    }
  }

  /** Up to `limit` lines of the invocation after `afterSeq` (0: from its oldest kept line). */
  read(invocationId: string, afterSeq: number, limit: number): HandlerLogPage {
    const entry = this.byInvocation.get(invocationId);
    if (entry === undefined) return { lines: [], dropped: 0 };
    const lines: HandlerLogLine[] = [];
    let i = entry.start;
    while (i < entry.lines.length && entry.lines[i]!.seq <= afterSeq) i++;
    for (; i < entry.lines.length && lines.length < limit; i++) lines.push(entry.lines[i]!);
    return {
      lines,
      dropped: entry.dropped,
      ...(i < entry.lines.length && lines.length > 0 && { nextAfterSeq: lines[lines.length - 1]!.seq }),
    };
  }

  /** Lines held now (for tests and stats). */
  size(): number {
    return this.total;
  }

  private dropOldest(invocationId: string, entry: InvocationLines): void {
    entry.start += 1;
    entry.dropped += 1;
    this.total -= 1;
    if (entry.start === entry.lines.length) {
      this.byInvocation.delete(invocationId);
      return;
    }
    // Compact once the dead prefix is as long as the live part: amortized O(1) per line.
    if (entry.start * 2 >= entry.lines.length) {
      entry.lines = entry.lines.slice(entry.start);
      entry.start = 0;
    }
  }
}
