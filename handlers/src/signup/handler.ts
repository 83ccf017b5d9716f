import { lambdaHandler } from "@capstan/sdk/lambda";
import { signup } from "./signup";

/** The Lambda entry point: the runtime invokes it with protocol messages (discover, invoke). */
export const handler = lambdaHandler(signup);
