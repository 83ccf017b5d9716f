import { startTestEnvironment, InvocationFailedError } from "@capstan/runtime/testing";
import { greeter } from "./greeter";

test("greets, durably: the sleep is skipped and every replay gives the same answer", async () => {
  const env = await startTestEnvironment({ services: [greeter], alwaysReplay: true });
  try {
    expect(await env.call("Greeter", "greet", "Ada")).toBe("Hello, Ada!");
    await expect(env.call("Greeter", "greet", "")).rejects.toBeInstanceOf(InvocationFailedError);
  } finally {
    await env.close();
  }
});
