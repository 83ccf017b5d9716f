import type { Completion, JournalEntry } from "../protocol";

/** The fake runtime's answers for the kitchen-sink workflow. */
export function kitchenSinkCompleter(entry: JournalEntry): Completion | undefined {
  switch (entry.kind) {
    case "sleep":
    case "promiseComplete":
      return { kind: "empty" };
    case "promisePeek":
      return { kind: "empty" };
    case "call":
      return { kind: "value", value: JSON.stringify(`hello ${JSON.parse(entry.parameter)}`) };
    case "awakeable":
      return { kind: "value", value: JSON.stringify("self") };
    case "promiseGet":
      return { kind: "value", value: JSON.stringify("done") };
    case "attach":
      return { kind: "value", value: JSON.stringify("attached") };
    case "input":
    case "output":
    case "run":
    case "send":
    case "getState":
    case "setState":
    case "clearState":
    case "clearAllState":
    case "getStateKeys":
    case "completeAwakeable":
    case "cancelInvocation":
      return undefined;
  }
}
