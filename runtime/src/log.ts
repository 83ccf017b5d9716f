/**
 * The runtime's own messages (not handlers' output, which their Lambda logs): attempt failures,
 * stopped partitions, registrations. `CAPSTAN_LOG_LEVEL` sets the least severe level printed.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where a component sends a message; `level` is "info" when omitted. */
export type Log = (message: string, level?: LogLevel) => void;

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
    write(`[capstan] ${level === "info" ? "" : `${level}: `}${message}\n`);
  };
}
