import type { Completion, InvokeRequest, InvokeResponse, JournalEntry, Target } from "../protocol";
import { decodeInvokeResponse } from "../protocol";
import type { Endpoint } from "../endpoint/endpoint";

/** What the fake runtime answers for an entry it must complete; undefined leaves it pending. */
export type Completer = (entry: JournalEntry, journal: JournalEntry[]) => Completion | undefined;

export interface DriveResult {
  last: InvokeResponse;
  journal: JournalEntry[];
  state: Record<string, string>;
  attempts: number;
  responses: InvokeResponse[];
}

/**
 * A tiny runtime in request/response mode for tests: invokes, records the response entries, completes
 * what the handler suspended on with `complete`, and re-invokes until the outcome is final.
 */
export async function drive(
  endpoint: Endpoint,
  target: Target,
  input: unknown,
  complete: Completer,
  options: { state?: Record<string, string>; maxAttempts?: number; request?: Partial<InvokeRequest> } = {},
): Promise<DriveResult> {
  const journal: JournalEntry[] = [
    { index: 0, kind: "input", value: input === undefined ? "" : JSON.stringify(input) },
  ];
  const state = { ...options.state };
  const responses: InvokeResponse[] = [];
  let attemptsSinceLastEntry = 0;
  for (let attempt = 1; attempt <= (options.maxAttempts ?? 50); attempt++) {
    const request: InvokeRequest = {
      type: "invoke",
      protocolVersion: 1,
      invocationId: "inv_3_drivendriven01",
      target,
      attempt,
      attemptToken: `tok-${attempt}`,
      headers: {},
      journal: structuredClone(journal),
      state: { complete: true, values: { ...state } },
      retry: { attemptsSinceLastEntry },
      nowMs: 1_700_000_000_000 + attempt,
      ...options.request,
    };
    const res = decodeInvokeResponse(await endpoint.handle(JSON.parse(JSON.stringify(request))));
    responses.push(res);
    for (const e of res.entries) {
      if (e.index < journal.length) {
        journal[e.index] = e; // a run re-sent with its result
        continue;
      }
      if (e.index !== journal.length) throw new Error(`journal gap at ${e.index}`);
      journal.push(e);
      if (e.kind === "setState") state[e.key] = e.value;
      if (e.kind === "clearState") delete state[e.key];
      if (e.kind === "clearAllState") for (const k of Object.keys(state)) delete state[k];
    }
    attemptsSinceLastEntry = res.entries.length > 0 ? 0 : attemptsSinceLastEntry + 1;
    const { outcome } = res;
    if (outcome.kind === "completed" || outcome.kind === "failed") {
      return { last: res, journal, state, attempts: attempt, responses };
    }
    if (outcome.kind === "suspended") {
      for (const i of outcome.awaiting) {
        const e = journal[i] as JournalEntry & { result?: Completion };
        if (e.result === undefined) {
          const c = complete(e, journal);
          if (c !== undefined) e.result = c;
        }
      }
    }
  }
  throw new Error("did not finish");
}
