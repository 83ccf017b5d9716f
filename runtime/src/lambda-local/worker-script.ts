import { type ThreadScript, threadScript } from "../threads/thread-script";

/** What `new Worker(...)` needs to start an execution environment. */
export type WorkerScript = ThreadScript;

/** The execution environments' entry: `worker-entry.js` when compiled, else bundled from its source. */
export function resolveWorkerScript(): WorkerScript {
  return threadScript(__dirname, "worker-entry", []);
}
