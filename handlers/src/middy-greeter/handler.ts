import middy from "@middy/core";
import { capstanMiddy } from "@capstan/sdk/lambda";
import { invocationLog } from "./invocation-log";
import { middyGreeter } from "./middy-greeter";

/**
 * The Lambda entry point, as a middy chain: Capstan's handler at the core, any middlewares around it
 * (they must pass the protocol event and response through unchanged).
 */
export const handler = middy(capstanMiddy(middyGreeter)).use(invocationLog());
