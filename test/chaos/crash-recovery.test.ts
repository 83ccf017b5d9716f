/**
 * Crash test: the runtime, in a child process, is killed with SIGKILL at seeded random moments under
 * load and restarted on the same data dir; the handlers run here, so every side effect is observed.
 * The oracle (support/oracle.ts) then checks DESIGN.md §6 against the final state: nothing
 * acknowledged is lost, object updates are exactly once and atomic with their sends, recorded steps
 * never re-run, one exclusive handler per key, same idempotency key → same invocation and result,
 * timers never early, nothing stuck.
 *
 * Reproduce a schedule: CAPSTAN_CHAOS_SEED=<seed> npx jest test/chaos
 * Soak: CAPSTAN_CHAOS_KILLS=20 npx jest test/chaos
 * (the runtime itself is not deterministic: the seed fixes the load mix and the kill moments).
 */
import { describeCrashRecovery } from "./support/crash-suite";

describeCrashRecovery({
  title: "crash recovery under SIGKILL",
  testPath: "test/chaos/crash-recovery.test.ts",
  defaultKills: 5,
});
