/**
 * The runtime's own messages (not handlers' output, which their Lambda logs): attempt failures,
 * stopped partitions, registrations. `CAPSTAN_LOG_LEVEL` sets the least severe level printed.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A message, or a function building it: one on a hot path costs nothing unless it is printed. */
export type LogMessage = string | (() => string);

/** Where a component sends a message; `level` is "info" when omitted. */
export type Log = (message: LogMessage, level?: LogLevel) => void;

/** The text of a message (calls a builder). */
export function messageText(message: LogMessage): string {
  return typeof message === "function" ? message() : message;
}

/**
 * Lines on stderr at `minLevel` and above: `[capstan] message` at info, `[capstan] warn: message`
 * (error:, debug:) otherwise, so the usual lines stay short and the unusual ones stand out.
 *
 * @example
 * const log = stderrLog("warn");
 * log("registered greeter:2");                 // not printed
 * log("attempt 1 of inv_… failed", "warn");    // [capstan] warn: attempt 1 of inv_… failed
 */
export function stderrLog(
  minLevel: LogLevel,
  write: (line: string) => void = (l) => void process.stderr.write(l),
): Log {
  const min = LOG_LEVELS.indexOf(minLevel);
  return (message, level = "info") => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    write(`[capstan] ${level === "info" ? "" : `${level}: `}${messageText(message)}\n`);
  };
}
