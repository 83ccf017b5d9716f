import path from "node:path";
import { InvocationFailedError, startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { mailer } from "../shared/fake-mailer";
import { expectGoldenJournal } from "../shared/test-support/golden-journal";
import { signup, type SignupResult, type SignupState } from "./signup";

const DAY_MS = 86_400_000;

/** The code from the last verification email to `to`, as the user would read it. */
function codeSentTo(to: string): string {
  const email = mailer
    .sent(to)
    .filter((e) => e.subject === "Verify your email")
    .at(-1);
  const code = /\b(\d{6})\b/.exec(email?.body ?? "")?.[1];
  if (code === undefined) throw new Error(`no verification email to ${to}`);
  return code;
}

describe.each([false, true])("Signup (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [signup], alwaysReplay });
  });
  afterAll(async () => env.close());

  test("verify with the emailed code completes the workflow; a wrong code is rejected", async () => {
    const id = `ada-${alwaysReplay}`;
    const email = `${id}@example.com`;

    const runId = await env.send("Signup", "run", email, { key: id });
    await env.settle(); // run has sent the email and waits on its promise (no time skipped)
    const code = codeSentTo(email);
    const pending = await env.call<SignupState>("Signup", "status", undefined, { key: id });
    const wrong = await env
      .call("Signup", "verify", code === "000000" ? "000001" : "000000", { key: id })
      .catch((e: unknown) => e);
    const verified = await env.call("Signup", "verify", code, { key: id });
    const result = await env.result<SignupResult>(runId);
    const again = await env.call("Signup", "verify", code, { key: id }).catch((e: unknown) => e);

    expect(pending).toEqual({ email, status: "pending" });
    expect(wrong).toBeInstanceOf(InvocationFailedError);
    expect(wrong).toMatchObject({ code: 400, message: "wrong verification code" });
    expect(verified).toBe("verified");
    expect(result).toEqual({ email, status: "verified" });
    expect(again).toMatchObject({ code: 409 });
    expect(await env.state("Signup", id)).toEqual({ email, code, status: "verified" });
    expect(mailer.sent(email).map((e) => e.subject)).toEqual(["Verify your email", "Welcome!"]);
    expectGoldenJournal(
      await env.journal(runId),
      path.join(__dirname, "fixtures/run-verified.journal.json"),
      {
        [email]: "<email>",
        [code]: "<code>",
      },
    );
  });

  test("without verification the workflow expires after a day (skipped time)", async () => {
    const id = `late-${alwaysReplay}`;
    const email = `${id}@example.com`;
    const startedMs = env.clock!.nowMs();

    const result = await env.result<SignupResult>(await env.send("Signup", "run", email, { key: id }));
    const tooLate = await env
      .call("Signup", "verify", codeSentTo(email), { key: id })
      .catch((e: unknown) => e);

    expect(result).toEqual({ email, status: "expired" });
    expect(env.clock!.nowMs() - startedMs).toBeGreaterThanOrEqual(DAY_MS);
    await expect(env.call("Signup", "status", undefined, { key: id })).resolves.toEqual({
      email,
      status: "expired",
    });
    expect(tooLate).toMatchObject({ code: 409 });
  });

  test("run executes once per workflow id: a second submission gets the first run's result", async () => {
    const id = `twice-${alwaysReplay}`;
    const email = `${id}@example.com`;

    const first = await env.call<SignupResult>("Signup", "run", email, { key: id });
    const second = await env.call<SignupResult>("Signup", "run", "someone-else@example.com", { key: id });

    expect(second).toEqual(first);
    expect(mailer.sent(email)).toHaveLength(1);
    expect(mailer.sent("someone-else@example.com")).toHaveLength(0);
  });

  test("shared handlers answer before run started, and an invalid email fails run with 400", async () => {
    const id = `none-${alwaysReplay}`;

    const status = await env.call("Signup", "status", undefined, { key: id });
    const verify = await env.call("Signup", "verify", "123456", { key: id }).catch((e: unknown) => e);
    const bad = await env
      .call("Signup", "run", "not-an-email", { key: `bad-${alwaysReplay}` })
      .catch((e: unknown) => e);

    expect(status).toEqual({ email: null, status: null });
    expect(verify).toMatchObject({ code: 404 });
    expect(bad).toMatchObject({ code: 400 });
  });
});
