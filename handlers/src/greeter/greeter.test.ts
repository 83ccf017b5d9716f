import path from "node:path";
import { InvocationFailedError, startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { expectGoldenJournal } from "../shared/test-support/golden-journal";
import { composeGreetingCalls, greeter } from "./greeter";

describe.each([false, true])("Greeter (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [greeter], alwaysReplay });
  });
  afterAll(async () => env.close());

  test("greet composes the greeting once and sleeps on a durable timer", async () => {
    const calls = composeGreetingCalls();
    const startedMs = env.clock!.nowMs();

    const id = await env.send("Greeter", "greet", "Ada");
    const greeting = await env.result(id);

    expect(greeting).toBe("Hello, Ada!");
    expect(composeGreetingCalls()).toBe(calls + 1); // replays reuse the recorded step
    expect(env.clock!.nowMs() - startedMs).toBeGreaterThanOrEqual(100);
    expectGoldenJournal(await env.journal(id), path.join(__dirname, "fixtures/greet.journal.json"));
  });

  test("greetLater answers after an hour of skipped time", async () => {
    const startedMs = env.clock!.nowMs();

    await expect(env.call("Greeter", "greetLater", "Grace")).resolves.toBe("Hello, Grace!");

    expect(env.clock!.nowMs() - startedMs).toBeGreaterThanOrEqual(3_600_000);
  });

  test("an empty name is the caller's mistake: a 400, not retried", async () => {
    const calls = composeGreetingCalls();

    const err = await env.call("Greeter", "greet", "  ").catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvocationFailedError);
    expect(err).toMatchObject({ code: 400 });
    expect(composeGreetingCalls()).toBe(calls);
  });
});
