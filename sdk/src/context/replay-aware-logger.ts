import type { Logger } from "./context-types";

/** Writes through `sink` with the invocation as prefix, and stays silent while `replaying()`. */
export function replayAwareLogger(sink: Logger, prefix: string, replaying: () => boolean): Logger {
  const write =
    (level: keyof Logger) =>
    (...args: unknown[]): void => {
      if (!replaying()) sink[level](prefix, ...args);
    };
  return {
    log: write("log"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    debug: write("debug"),
  };
}
