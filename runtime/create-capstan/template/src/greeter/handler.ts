import { lambdaHandler } from "@capstan/sdk/lambda";
import { greeter } from "./greeter";

/** The Lambda entry point: `npm start` serves it locally, `cdk deploy` deploys it. */
export const handler = lambdaHandler(greeter);
