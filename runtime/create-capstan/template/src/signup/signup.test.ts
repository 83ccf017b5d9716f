import { startTestEnvironment } from "@capstan/runtime/testing";
import { signup } from "./signup";

test("runs once per id and finishes when the code is verified", async () => {
  const env = await startTestEnvironment({ services: [signup], time: "manual" });
  try {
    const run = await env.send("Signup", "run", "ada@example.com", { key: "s-1" });
    await env.waitUntilSuspended(run, { kind: "promiseGet" });
    const { code } = (await env.state("Signup", "s-1")) as { code: string };
    expect(await env.call("Signup", "verify", "wrong", { key: "s-1" })).toBe(false);
    expect(await env.call("Signup", "verify", code, { key: "s-1" })).toBe(true);
    expect(await env.result(run)).toBe("ada@example.com verified");
  } finally {
    await env.close();
  }
});
