/**
 * Handler logs: what a function printed (its `ctx.console` lines, anything else on stdout/stderr) for
 * one invocation, attempt by attempt. The runtime does not run handlers, so it only reads them from a
 * `HandlerLogSource`: locally the local Lambda endpoint, which runs the functions and keeps a bounded
 * buffer of their lines (lambda-local/handler-log-buffer.ts). On AWS there is none: the lines are in
 * the function's CloudWatch log group, and the admin API says so instead of answering empty.
 */

/** One line a handler printed. `seq` orders all lines of the source; a page resumes after one. */
export interface HandlerLogLine {
  seq: number;
  atMs: number;
  /** The invocation's attempt (one Lambda invocation) that printed it. */
  attempt: number;
  stream: "stdout" | "stderr";
  text: string;
}

export interface HandlerLogPage {
  /** Oldest first, each after the requested `afterSeq`. */
  lines: HandlerLogLine[];
  /** Older lines of this invocation that the source's bounds dropped: the page is not the whole log. */
  dropped: number;
  /** Set when more lines follow: read again with `afterSeq` = this. */
  nextAfterSeq?: number;
}

/** Where the runtime reads handler logs from (absent: it has none, e.g. on AWS). */
export interface HandlerLogSource {
  read(invocationId: string, afterSeq: number, limit: number): Promise<HandlerLogPage>;
}
