/**
 * Readiness, distinct from liveness: `/health` says the process answers; `/health/ready` says
 * requests will find their services. Gates are reasons outside the runtime's own status — under
 * `capstan dev`, functions not built and registered yet — and the node is ready when its partitions
 * lead (status "ok") and no gate is closed.
 */
import type { HealthInfo } from "./server/runtime-api";

export interface ReadinessInfo {
  ready: boolean;
  status: HealthInfo["status"];
  /** Why not ready, for the 503 body: the runtime's status reason or the closed gates. */
  reason?: string;
}

/**
 * Named reasons not to be ready yet.
 *
 * @example
 * const gates = new ReadinessGates();
 * gates.close("functions", "building 3 functions");  // GET /health/ready → 503 {reason: "building 3 functions"}
 * gates.open("functions");                           // → 200 once partitions lead
 */
export class ReadinessGates {
  private readonly closed = new Map<string, string>();

  close(gate: string, reason: string): void {
    this.closed.set(gate, reason);
  }

  open(gate: string): void {
    this.closed.delete(gate);
  }

  /** Readiness given the runtime's health. */
  of(health: HealthInfo): ReadinessInfo {
    if (health.status !== "ok") {
      return { ready: false, status: health.status, reason: health.reason ?? `runtime is ${health.status}` };
    }
    if (this.closed.size > 0)
      return { ready: false, status: health.status, reason: [...this.closed.values()].join("; ") };
    return { ready: true, status: health.status };
  }
}
