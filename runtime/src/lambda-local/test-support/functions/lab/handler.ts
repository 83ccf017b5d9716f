import { getPriority } from "node:os";
import { threadId } from "node:worker_threads";

/** One fixture, many behaviours, chosen by `event.action`; the endpoint tests drive it. */
interface LabEvent {
  readonly action?: "echo" | "throw" | "hang" | "exit" | "sleep" | "big" | "uncaught" | "overlap" | "print";
  readonly ms?: number;
  readonly bytes?: number;
  readonly [key: string]: unknown;
}

interface Context {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

class LabError extends Error {
  override readonly name = "LabError";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Module state shared by every invocation a worker runs (several at once on managed instances). */
let running = 0;
let peak = 0;

export const handler = async (event: LabEvent | string, context: Context): Promise<unknown> => {
  if (typeof event === "string") return { length: event.length };
  switch (event.action ?? "echo") {
    case "throw":
      throw new LabError("boom from the lab");
    case "hang":
      return new Promise(() => undefined);
    case "exit":
      if (event.ms !== undefined) await sleep(event.ms);
      process.exit(3);
      break;
    case "uncaught":
      setTimeout(() => {
        throw new RangeError("thrown outside the handler's promise");
      }, 1);
      return new Promise(() => undefined);
    case "sleep":
      await sleep(event.ms ?? 100);
      return { slept: event.ms };
    case "overlap":
      running += 1;
      peak = Math.max(peak, running);
      console.log(`overlap started ${context.awsRequestId}`);
      await sleep(event.ms ?? 100);
      console.log(`overlap ended ${context.awsRequestId}`);
      running -= 1;
      return { threadId, peak, maxConcurrency: process.env.AWS_LAMBDA_MAX_CONCURRENCY ?? null };
    case "print":
      // What a handler prints: console lines, a direct write of two lines, a long line.
      console.log(`printed by ${String(event.invocationId)} attempt ${String(event.attempt)}`);
      console.error("an error line");
      process.stdout.write("direct one\ndirect two\n");
      process.stdout.write("y".repeat(event.bytes ?? 0) + "\n");
      return { printed: true };
    case "big":
      return "x".repeat(event.bytes ?? 0);
    case "echo":
      break;
  }
  const remainingBefore = context.getRemainingTimeInMillis();
  await sleep(20);
  return {
    event,
    threadId,
    priority: getPriority(),
    remainingBefore,
    remainingAfter: context.getRemainingTimeInMillis(),
    context: {
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    },
    env: { GREETING: process.env.GREETING, AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME },
  };
};
