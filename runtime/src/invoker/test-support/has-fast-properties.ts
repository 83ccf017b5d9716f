import { setFlagsFromString } from "node:v8";

// V8's own predicate, compiled after enabling its syntax: fast mode is a property of V8's heap.
setFlagsFromString("--allow-natives-syntax");

/** Whether V8 stores `object`'s properties in fast mode (not as a hash table). */
// eslint-disable-next-line @typescript-eslint/no-implied-eval
export const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;
