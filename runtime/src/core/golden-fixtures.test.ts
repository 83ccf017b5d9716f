/**
 * The SDK's golden fixtures (sdk/src/protocol/fixtures), read by the runtime: every entry kind the SDK
 * records is accepted by the state machine in order, and the journal the runtime keeps has the same
 * kinds and names as the SDK's recorded one. A one-sided change to the protocol fails here or in the
 * SDK's fixture test.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  decodeInvokeRequest,
  decodeInvokeResponse,
  entryLabel,
  parseTraceparent,
  RUNTIME_COMPLETED_KINDS,
  type JournalEntry,
} from "@capstan/sdk/protocol";
import { Telemetry } from "../telemetry/telemetry";
import { Harness, newInvocation, ofKind, rec } from "./test-support/builders";

const FIXTURES = path.join(__dirname, "../../../sdk/src/protocol/fixtures");
const read = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8"));

/** What the SDK sends for an entry: runtime-completed entries go without their result. */
function asSent(entry: JournalEntry): JournalEntry {
  if (!RUNTIME_COMPLETED_KINDS.has(entry.kind) || !("result" in entry)) return entry;
  const { result: _result, ...sent } = entry as JournalEntry & { result?: unknown };
  return sent as JournalEntry;
}

test("the runtime accepts the SDK's recorded journal of every entry kind", () => {
  const request = decodeInvokeRequest(read("invoke-every-entry-kind.request.json"));
  const response = decodeInvokeResponse(read("invoke-every-entry-kind.response.json"));
  const finalJournal = (read("journal-every-entry-kind.json") as unknown[]).map((e) => e as JournalEntry);
  const h = new Harness(7, 16);
  const id = request.invocationId as Parameters<typeof newInvocation>[0];
  const input = request.journal[0]!;
  h.apply(
    rec.invoke(
      newInvocation(id, {
        target: request.target,
        serviceKind: "workflow",
        handlerKind: "workflow",
        input: input.kind === "input" ? input.value : "",
      }),
    ),
  );
  const attempt = h.inv(id).attempt;

  const recorded = request.journal.slice(1).map(asSent);
  const checkpoint = h.apply(rec.entries(id, attempt, recorded));
  expect(ofKind(checkpoint, "entries-rejected")).toEqual([]);
  const final = h.apply(rec.entries(id, attempt, response.entries.map(asSent), response.outcome));
  expect(ofKind(final, "entries-rejected")).toEqual([]);

  const journal = h.inv(id).journal;
  expect(journal.map((e) => [e.kind, entryLabel(e)])).toEqual(
    finalJournal.map((e) => [e.kind, entryLabel(e)]),
  );
  expect(h.inv(id).status).toBe("completed");
});

test("the runtime sends the fixture's traceparent: its attempt span, derived from invocation and attempt", () => {
  const request = decodeInvokeRequest(read("invoke-every-entry-kind.request.json"));
  const caller = parseTraceparent(request.traceparent)!;
  const h = new Harness(7, 16);
  const id = request.invocationId as Parameters<typeof newInvocation>[0];
  h.apply(rec.invoke({ ...newInvocation(id), trace: { traceId: caller.traceId, sampled: true } }));

  const attempt = Telemetry.silent().attemptStarted(h.inv(id), request.attempt);

  expect(attempt.traceparent).toBe(request.traceparent);
});
