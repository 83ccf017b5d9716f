/** What the console shows of each journal entry beside its label (the protocol's `entryLabel`). */
import type { JournalEntry } from "@capstan/sdk/protocol";
import { formatCompletion, formatDuration, formatPayload, formatTime } from "./format";

/** Labelled values: the entry's input (parameter, value) and its result when it has one. */
export function entryValues(entry: JournalEntry): Array<[label: string, text: string]> {
  const values: Array<[string, string]> = [];
  switch (entry.kind) {
    case "input":
      values.push(["input", formatPayload(entry.value)]);
      break;
    case "output":
      values.push(["output", formatCompletion(entry.result)]);
      break;
    case "call":
    case "send":
      values.push(["parameter", formatPayload(entry.parameter)]);
      if (entry.invocationId !== undefined) values.push(["invocation", entry.invocationId]);
      break;
    case "setState":
      values.push(["value", formatPayload(entry.value)]);
      break;
    case "completeAwakeable":
    case "promiseComplete":
      values.push(["completion", formatCompletion(entry.completion)]);
      break;
    case "sleep":
      values.push(["duration", formatDuration(entry.durationMs)]);
      if (entry.wakeUpAtMs !== undefined) values.push(["wakes up", formatTime(entry.wakeUpAtMs)]);
      break;
    case "run":
    case "getState":
    case "clearState":
    case "clearAllState":
    case "getStateKeys":
    case "awakeable":
    case "promiseGet":
    case "promisePeek":
    case "attach":
    case "cancelInvocation":
      break;
  }
  if ("result" in entry && entry.kind !== "output") values.push(["result", formatCompletion(entry.result)]);
  return values;
}
