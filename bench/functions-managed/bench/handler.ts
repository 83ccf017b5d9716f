// The bench services again, deployed as on Lambda Managed Instances (function.json beside this file).
export { handler } from "../../functions/bench/handler";
