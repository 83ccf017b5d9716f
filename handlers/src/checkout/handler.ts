import { lambdaHandler } from "@capstan/sdk/lambda";
import { checkout } from "./checkout";

/** The Lambda entry point: the runtime invokes it with protocol messages (discover, invoke). */
export const handler = lambdaHandler(checkout);
