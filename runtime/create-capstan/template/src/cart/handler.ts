import { lambdaHandler } from "@capstan/sdk/lambda";
import { cart } from "./cart";

export const handler = lambdaHandler(cart);
