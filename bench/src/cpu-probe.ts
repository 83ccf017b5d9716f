/**
 * A fixed single-threaded CPU workload timed in the bench process, before and after each mode: when
 * figures move between runs of the same build, it tells whether the machine itself was slower (this
 * VM's host is shared; its steal time is not reported) or our code was.
 */
import { createHash } from "node:crypto";

const PROBE_BYTES = Buffer.alloc(64 * 1024, 7);
const PROBE_ROUNDS = 200;

/** Rounds per millisecond of SHA-256 over 64 KiB plus a JSON round trip, the best of 3 timed blocks after a warm-up: higher is a faster machine. */
export function cpuProbe(): number {
  rounds(PROBE_ROUNDS); // warm-up: JIT
  let best = 0;
  for (let block = 0; block < 3; block++) {
    const started = performance.now();
    rounds(PROBE_ROUNDS);
    best = Math.max(best, PROBE_ROUNDS / (performance.now() - started));
  }
  return best;
}

function rounds(n: number): void {
  let digest = "";
  for (let i = 0; i < n; i++) {
    digest = createHash("sha256").update(PROBE_BYTES).update(digest).digest("hex");
    JSON.parse(JSON.stringify({ i, digest, list: [1, 2, 3, { nested: digest }] }));
  }
}
