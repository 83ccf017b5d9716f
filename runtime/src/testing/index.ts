/**
 * Test kit for Capstan handlers: a real embedded runtime in-process, time skipping and alwaysReplay.
 *
 * @example
 * const env = await startTestEnvironment({ services: [greeter], alwaysReplay: true });
 * expect(await env.call("Greeter", "greet", "Ada")).toBe("Hello, Ada!");
 * await env.close();
 */
export { startTestEnvironment, TestEnvironment, InvocationFailedError } from "./test-environment";
export { DEFAULT_WAIT_TIMEOUT_MS } from "./test-environment";
export type { TestEnvironmentOptions, CallOptions, EntryMatch } from "./test-environment";
export { ManualClock } from "./manual-clock";
export { InProcessInvoker } from "./in-process-invoker";
