import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalEntry } from "./index";
import { decodeEntry, decodeInvokeRequest, decodeInvokeResponse, entryLabel } from "./index";
import { createEndpoint } from "../index";
import { greeter, kitchenSink, runCounts } from "../test-support/kitchen-sink";

/** Golden fixtures shared with the runtime's tests: a one-sided protocol change fails both. */
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(__dirname, "fixtures", name), "utf8"));

const ALL_KINDS: JournalEntry["kind"][] = [
  "input",
  "output",
  "run",
  "sleep",
  "call",
  "send",
  "getState",
  "setState",
  "clearState",
  "clearAllState",
  "getStateKeys",
  "awakeable",
  "completeAwakeable",
  "promiseGet",
  "promisePeek",
  "promiseComplete",
  "attach",
  "cancelInvocation",
];

describe("golden fixtures", () => {
  test("decode losslessly, and together cover every entry kind", () => {
    const rawRequest = fixture("invoke-every-entry-kind.request.json");
    const rawResponse = fixture("invoke-every-entry-kind.response.json");
    const rawJournal = fixture("journal-every-entry-kind.json") as unknown[];

    const request = decodeInvokeRequest(rawRequest);
    const response = decodeInvokeResponse(rawResponse);
    const journal = rawJournal.map((e, i) => decodeEntry(e, `journal[${i}]`));

    expect(request).toEqual(rawRequest);
    expect(response).toEqual(rawResponse);
    expect(journal).toEqual(rawJournal);
    expect(new Set(journal.map((e) => e.kind))).toEqual(new Set(ALL_KINDS));
    expect(journal.map((e) => entryLabel(e))).toContain("Greeter/greet");
  });

  test("the request replays through the engine into exactly the expected response, re-running nothing", async () => {
    const endpoint = createEndpoint(greeter, kitchenSink);
    const before = runCounts.step;

    const response = await endpoint.handle(fixture("invoke-every-entry-kind.request.json"));

    expect(response).toEqual(fixture("invoke-every-entry-kind.response.json"));
    expect(runCounts.step).toBe(before);
  });
});
