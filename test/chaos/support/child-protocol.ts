/** What a crash-test runtime child prints once it serves: one line, READY_PREFIX + JSON. */
export const READY_PREFIX = "CAPSTAN_CHAOS_READY ";

export interface ChildReady {
  pid: number;
  ingressUrl: string;
  adminUrl: string;
  /** From entering main() to listeners up and recovery done, measured in the child. */
  startupMs: number;
}
