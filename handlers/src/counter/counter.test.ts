import path from "node:path";
import { InvocationFailedError, startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { expectGoldenJournal } from "../shared/test-support/golden-journal";
import { counter } from "./counter";

describe.each([false, true])("Counter (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [counter], alwaysReplay });
  });
  afterAll(async () => env.close());

  test("concurrent adds on one key are serialized; other keys are independent", async () => {
    const key = `hot-${alwaysReplay}`;

    const results = await Promise.all(
      Array.from({ length: 20 }, () => env.call<number>("Counter", "add", 1, { key })),
    );
    await env.call("Counter", "add", 5, { key: `other-${alwaysReplay}` });

    expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await expect(env.call("Counter", "get", undefined, { key })).resolves.toBe(20);
    expect(await env.state("Counter", key)).toEqual({ count: 20 });
    expect(await env.state("Counter", `other-${alwaysReplay}`)).toEqual({ count: 5 });
  });

  test("add records get + set; reset clears the state; a bad delta is a 400", async () => {
    const key = `golden-${alwaysReplay}`;

    const id = await env.send("Counter", "add", 3, { key });
    await expect(env.result(id)).resolves.toBe(3);
    await env.call("Counter", "reset", undefined, { key });
    const err = await env.call("Counter", "add", 0.5, { key }).catch((e: unknown) => e);

    expectGoldenJournal(await env.journal(id), path.join(__dirname, "fixtures/add.journal.json"));
    expect(await env.state("Counter", key)).toEqual({});
    expect(err).toBeInstanceOf(InvocationFailedError);
    expect(err).toMatchObject({ code: 400 });
  });
});
