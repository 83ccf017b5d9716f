import { lambdaHandler } from "@capstan/sdk/lambda";
import { cart } from "./cart";

/** The Lambda entry point: the runtime invokes it with protocol messages (discover, invoke). */
export const handler = lambdaHandler(cart);
