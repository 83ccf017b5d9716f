import { lambdaHandler } from "@capstan/sdk/lambda";
import { orders, warehouse } from "./orders";

/** The Lambda entry point: one function serving both services (discovery lists both). */
export const handler = lambdaHandler(orders, warehouse);
