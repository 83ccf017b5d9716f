/**
 * The runtime's own messages (not handlers' output, which their Lambda logs): attempt failures,
 * stopped partitions, registrations. `CAPSTAN_LOG_LEVEL` sets the least severe level printed;
 * `CAPSTAN_LOG_FORMAT` prints readable text (a terminal) or one JSON object per line (CloudWatch).
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A message, or a function building it: one on a hot path costs nothing unless it is printed. */
export type LogMessage = string | (() => string);

/**
 * What a line is about, printed as JSON fields (docs/observability.md lists them). Never payloads or
 * headers: they may hold secrets.
 */
export interface LogFields {
  invocationId?: string;
  service?: string;
  handler?: string;
  attempt?: number;
  traceId?: string;
  /** The failed step: `run "charge" (entry 3)`. */
  entry?: string;
  /** When the next attempt starts, ISO 8601. */
  nextRetryAt?: string;
  /** An error's stack (its first line is the message). */
  stack?: string;
}

/** Where a component sends a message; `level` is "info" when omitted. */
export type Log = (message: LogMessage, level?: LogLevel, fields?: LogFields) => void;

/** The text of a message (calls a builder). */
export function messageText(message: LogMessage): string {
  return typeof message === "function" ? message() : message;
}

/**
 * Lines on stderr at `minLevel` and above: `[capstan] message` at info, `[capstan] warn: message`
 * (error:, debug:) otherwise, so the usual lines stay short and the unusual ones stand out. A stack
 * follows on its own indented lines; the other fields are for the JSON format (the message already
 * says what a reader of the terminal needs).
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
  return (message, level = "info", fields) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const stack = fields?.stack === undefined ? "" : indent(fields.stack);
    write(`[capstan] ${level === "info" ? "" : `${level}: `}${messageText(message)}\n${stack}`);
  };
}

/**
 * One JSON object per line on stdout-like `write`: `level`, `time` (ISO 8601), `message`, then the
 * fields — what CloudWatch Logs Insights and other collectors parse without a pattern.
 *
 * @example
 * jsonLog("info")("attempt 2 failed", "warn", { invocationId: "inv_3_…", attempt: 2 })
 * // {"level":"warn","time":"2026-…Z","message":"attempt 2 failed","invocationId":"inv_3_…","attempt":2}
 */
export function jsonLog(
  minLevel: LogLevel,
  write: (line: string) => void = (l) => void process.stderr.write(l),
  nowMs: () => number = Date.now,
): Log {
  const min = LOG_LEVELS.indexOf(minLevel);
  return (message, level = "info", fields) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const line = { level, time: new Date(nowMs()).toISOString(), message: messageText(message), ...fields };
    write(JSON.stringify(line) + "\n");
  };
}

/**
 * The log `CAPSTAN_LOG_FORMAT` and `CAPSTAN_LOG_LEVEL` ask for, on stderr.
 *
 * @example
 * const log = createLog(config.logFormat, config.logLevel); // json on AWS, text in a terminal
 */
export function createLog(format: LogFormat, minLevel: LogLevel): Log {
  return format === "json" ? jsonLog(minLevel) : stderrLog(minLevel);
}

/** The stack's frames, indented; its first line (`Error: message`) repeats what the message says. */
function indent(stack: string): string {
  const lines = stack.split("\n");
  const frames = /^\s+at /.test(lines[0] ?? "") ? lines : lines.slice(1);
  return frames.map((line) => `    ${line.trim()}\n`).join("");
}
