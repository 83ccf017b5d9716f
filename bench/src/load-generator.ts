/**
 * A closed-loop load generator: `clients` concurrent loops, each sending its next request as soon as
 * the previous answer arrived, over keep-alive connections to 127.0.0.1 only.
 */
import { Agent, request } from "node:http";
import type { ClientScript } from "./workloads";

/** A request still unanswered after this long counts as an error (and its socket is dropped). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Error messages kept per run for the report; the count is exact regardless. */
const MAX_ERROR_SAMPLES = 5;

export interface PhaseResult {
  requests: number;
  errors: number;
  errorSamples: string[];
  /** From the first request sent to the last answer received (in-flight requests are drained). */
  elapsedMs: number;
  /** Latency of every answered request, ms. */
  latenciesMs: number[];
}

export interface PhaseOptions {
  /** Several (a cluster's nodes): each request goes to the next one, round-robin. */
  baseUrl: string | string[];
  scripts: ClientScript[];
  durationMs: number;
  maxRequests: number;
}

function send(agent: Agent, url: URL, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Runs one phase: every client loops until `durationMs` has passed or `maxRequests` were sent, then
 * the phase waits for the requests in flight, so counters read afterwards cover exactly its requests.
 */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const urls = (Array.isArray(options.baseUrl) ? options.baseUrl : [options.baseUrl]).map((u) => new URL(u));
  for (const url of urls)
    if (url.hostname !== "127.0.0.1")
      throw new Error(`the bench only targets 127.0.0.1, not ${url.hostname}`);
  let next = 0;
  // maxSockets is per host (a cluster's node): every client may be at the same node at once.
  const agent = new Agent({ keepAlive: true, maxSockets: options.scripts.length });
  const latenciesMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const loop = async (script: ClientScript): Promise<void> => {
    while (performance.now() < deadline && sent < options.maxRequests) {
      sent++;
      const { path, body } = script.next();
      const t0 = performance.now();
      let problem: string | undefined;
      try {
        const url = urls[next++ % urls.length]!;
        const { status, text } = await send(agent, url, path, body);
        problem = script.check(status, text);
      } catch (e) {
        problem = `${path}: ${(e as Error).message}`;
      }
      latenciesMs.push(performance.now() - t0);
      if (problem !== undefined) {
        errors++;
        if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(problem);
      }
    }
  };
  await Promise.all(options.scripts.map(loop));
  const elapsedMs = performance.now() - start;
  agent.destroy();
  return { requests: sent, errors, errorSamples, elapsedMs, latenciesMs };
}

/** Nearest-rank percentile of `sorted` (ascending), `p` in (0, 100]. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
