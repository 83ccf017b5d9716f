/**
 * Resolves on the first SIGINT (Ctrl-C) or SIGTERM, so a long-running command can shut down cleanly
 * — or when the process that started this one with an IPC channel (`capstan dev` starting its nodes)
 * goes away, however it died: a node must not outlive `capstan dev` and hold its ports. After such a
 * disconnect the process exits by itself if its clean stop has not finished within
 * ORPHAN_STOP_DEADLINE_MS (the stores it would hand over to may be stopping too).
 */

/** How long a process whose parent went away may take to stop cleanly before it exits anyway. */
export const ORPHAN_STOP_DEADLINE_MS = 15_000;

export function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      process.off("disconnect", orphaned);
      resolve();
    };
    const orphaned = (): void => {
      setTimeout(() => process.exit(1), ORPHAN_STOP_DEADLINE_MS).unref();
      stop();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (process.send !== undefined) {
      // Started with an IPC channel. It is there only to notice the parent's end: it must not keep
      // this process alive by itself.
      process.channel?.unref();
      process.on("disconnect", orphaned);
      // Gone already (while this process was starting): the event has passed.
      if (!process.connected) orphaned();
    }
  });
}
