import { lambdaHandler } from "@capstan/sdk/lambda";
import { counter } from "./counter";

/** The Lambda entry point: the runtime invokes it with protocol messages (discover, invoke). */
export const handler = lambdaHandler(counter);
