/**
 * The bench workloads: the same HTTP requests for every deployment mode, each with a response check
 * so a wrong answer counts as an error, never as throughput.
 */
import { FANOUT_CALLS, SLEEP_MS } from "../functions/bench/services";

export const WORKLOAD_NAMES = [
  "noop",
  "steps",
  "sleeper",
  "fanout",
  "counter-spread",
  "counter-hot",
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** One closed-loop client's script: the next request, and the check of its response. */
export interface ClientScript {
  next(): { path: string; body: string };
  /** An error message, or undefined when the response is the expected one. */
  check(status: number, body: string): string | undefined;
}

/** Keys per client of `counter-spread`: enough to spread, few enough to verify each count exactly. */
const KEYS_PER_CLIENT = 16;
const NOOP_INPUT = JSON.stringify({ hello: "bench", n: 42, list: [1, 2, 3] });

function exact(path: string, body: string, expected: string): ClientScript {
  return {
    next: () => ({ path, body }),
    check: (status, text) =>
      status !== 200
        ? `HTTP ${status}: ${text.slice(0, 200)}`
        : text === expected
          ? undefined
          : `got ${text.slice(0, 200)}`,
  };
}

/** Each client owns its keys, so it knows every count the runtime must answer. */
function spreadCounter(tag: string, client: number): ClientScript {
  const counts = new Map<string, number>();
  let seq = 0;
  let key = "";
  return {
    next() {
      key = `${tag}-c${client}-k${seq++ % KEYS_PER_CLIENT}`;
      return { path: `/counter/${key}/add`, body: "1" };
    },
    check(status, text) {
      if (status !== 200) return `HTTP ${status}: ${text.slice(0, 200)}`;
      const expected = (counts.get(key) ?? 0) + 1;
      counts.set(key, expected);
      return text === String(expected) ? undefined : `counter ${key}: expected ${expected}, got ${text}`;
    },
  };
}

/** All clients share one key: every answer must be a new count, else two adds ran concurrently. */
function hotCounter(tag: string, seen: Set<number>): ClientScript {
  return {
    next: () => ({ path: `/counter/${tag}-hot/add`, body: "1" }),
    check(status, text) {
      if (status !== 200) return `HTTP ${status}: ${text.slice(0, 200)}`;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1) return `hot counter: not a count: ${text.slice(0, 200)}`;
      if (seen.has(n)) return `hot counter: count ${n} answered twice (lost update)`;
      seen.add(n);
      return undefined;
    },
  };
}

/** Client scripts of one run; `tag` makes counter keys unique to the run. */
export function clientScripts(workload: WorkloadName, tag: string, clients: number): ClientScript[] {
  const seen = new Set<number>();
  return Array.from({ length: clients }, (_, client) => {
    switch (workload) {
      case "noop":
        return exact("/bench/noop", NOOP_INPUT, NOOP_INPUT);
      case "steps":
        return exact("/bench/steps", "null", JSON.stringify({ a: 1, b: 2, c: 3 }));
      case "sleeper":
        return exact("/bench/sleeper", "null", JSON.stringify({ slept: SLEEP_MS }));
      case "fanout":
        return exact("/bench/fanout", "null", JSON.stringify({ n: FANOUT_CALLS }));
      case "counter-spread":
        return spreadCounter(tag, client);
      case "counter-hot":
        return hotCounter(tag, seen);
    }
  });
}
