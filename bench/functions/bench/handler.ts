/** The bench services as a Lambda function: `capstan dev` bundles this file with esbuild. */
import { lambdaHandler } from "@capstan/sdk/lambda";
import { bench, counter } from "./services";

export const handler = lambdaHandler(bench, counter);
