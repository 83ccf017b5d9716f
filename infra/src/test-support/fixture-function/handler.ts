/** A minimal Lambda entry for construct tests: bundles in milliseconds, imports nothing. */
export const handler = async (): Promise<string> => "ok";
