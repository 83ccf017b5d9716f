import { lambdaHandler } from "@capstan/sdk/lambda";
import { signup } from "./signup";

export const handler = lambdaHandler(signup);
