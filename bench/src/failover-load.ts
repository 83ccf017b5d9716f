/**
 * The failover scenario's light background load: a few clients, each sending `counter/{key}/add`
 * to the next serving node (round-robin) and pausing LOAD_PAUSE_MS between requests, on keys spread
 * over every partition. The scenario takes a node out of the targets just before signalling it (as a
 * load balancer drains a stopping task) and back once it is up again, so the errors counted are what
 * a client of the surviving nodes saw while partitions moved.
 */
import { setTimeout as delay } from "node:timers/promises";

/** Pause of each client between two requests: light load, not a throughput run. */
export const LOAD_PAUSE_MS = 50;
/** A request unanswered this long counts as an error. */
const LOAD_REQUEST_TIMEOUT_MS = 30_000;
const LOAD_KEYS = 256;
const MAX_ERROR_SAMPLES = 5;

export interface LoadCounts {
  ok: number;
  errors: number;
  /** Slowest successful answer, ms. */
  maxLatencyMs: number;
  errorSamples: string[];
}

export class BackgroundLoad {
  private readonly targets = new Set<string>();
  private running = false;
  private loops: Promise<void>[] = [];
  private counts: LoadCounts = emptyCounts();
  private rr = 0;

  constructor(
    private readonly clients: number,
    private readonly tag: string,
  ) {}

  /** Sends to this ingress URL from now on. */
  add(ingressUrl: string): void {
    this.targets.add(ingressUrl);
  }

  /** Stops sending to this ingress URL (requests in flight finish). */
  remove(ingressUrl: string): void {
    this.targets.delete(ingressUrl);
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.clients }, (_, c) => this.loop(c));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The counts since the last call, and starts new ones. */
  take(): LoadCounts {
    const c = this.counts;
    this.counts = emptyCounts();
    return c;
  }

  private async loop(client: number): Promise<void> {
    let seq = 0;
    while (this.running) {
      const targets = [...this.targets];
      if (targets.length > 0) {
        const url = targets[this.rr++ % targets.length]!;
        const key = `${this.tag}-${(client * 7919 + seq++) % LOAD_KEYS}`;
        const t0 = performance.now();
        let problem: string | undefined;
        try {
          const res = await fetch(`${url}/counter/${key}/add`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "1",
            signal: AbortSignal.timeout(LOAD_REQUEST_TIMEOUT_MS),
          });
          const text = await res.text();
          if (res.status !== 200) problem = `${url}: HTTP ${res.status}: ${text.slice(0, 160)}`;
        } catch (e) {
          const cause = (e as { cause?: { code?: string; message?: string } }).cause;
          problem = `${url}: ${(e as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`;
        }
        if (problem === undefined) {
          this.counts.ok++;
          this.counts.maxLatencyMs = Math.max(this.counts.maxLatencyMs, performance.now() - t0);
        } else {
          this.counts.errors++;
          if (this.counts.errorSamples.length < MAX_ERROR_SAMPLES) this.counts.errorSamples.push(problem);
        }
      }
      await delay(LOAD_PAUSE_MS);
    }
  }
}

function emptyCounts(): LoadCounts {
  return { ok: 0, errors: 0, maxLatencyMs: 0, errorSamples: [] };
}
