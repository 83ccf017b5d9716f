import { lambdaHandler } from "@capstan/sdk/lambda";
import { greeter } from "./greeter";

/** The Lambda entry point: the runtime invokes it with protocol messages (discover, invoke). */
export const handler = lambdaHandler(greeter);
