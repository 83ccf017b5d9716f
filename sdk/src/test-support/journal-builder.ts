import type { InvokeRequest, JournalEntry, Target } from "../protocol";

/** Builds InvokeRequests for tests: a journal (entry 0 = input) and sane defaults. */
export function invokeRequest(
  target: Target,
  input: unknown,
  entries: object[] = [],
  extra: Partial<InvokeRequest> = {},
): InvokeRequest {
  const journal = [
    { index: 0, kind: "input", value: input === undefined ? "" : JSON.stringify(input) },
    ...entries.map((e, i) => ({ ...e, index: i + 1 }) as JournalEntry),
  ] as JournalEntry[];
  return {
    type: "invoke",
    protocolVersion: 1,
    invocationId: "inv_1_abcdefgh1234",
    target,
    attempt: 1,
    attemptToken: "tok-1",
    headers: {},
    journal,
    retry: { attemptsSinceLastEntry: 0 },
    nowMs: 1_700_000_000_000,
    ...extra,
  };
}

/** JSON text of a value, as the default serde writes it. */
export const j = (v: unknown): string => (v === undefined ? "" : JSON.stringify(v));
