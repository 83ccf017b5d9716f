/**
 * One-way sends hand back the new invocation's id — in handlers (derived by the SDK exactly as the
 * runtime stamps it, the same on every replay) and in the typed ingress client — and attach/cancel
 * work with it. Also: a client typed by a definition's type alone, called by name.
 */
import { CancelledError, service } from "@capstan/sdk";
import { connect } from "@capstan/sdk/client";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

const mailer = service({
  name: "Mailer",
  handlers: {
    send: async (ctx, to: string) => {
      await ctx.sleep({ hours: 1 });
      return `mailed ${to}`;
    },
    now: async (_ctx, to: string) => `mailed ${to} now`,
  },
});
type Mailer = typeof mailer; // what another function would `import type`

const signup = service({
  name: "Signup",
  handlers: {
    /** Sends two mails, attaches to one and cancels the other, by the ids the sends returned. */
    register: async (ctx, email: string) => {
      const welcome = ctx.serviceSendClient<Mailer>({ name: "Mailer" }).now(email);
      const reminder = ctx.serviceSendClient(mailer).send(email, { delay: { days: 1 } });
      const welcomeId = await welcome.invocationId;
      const reminderId = await reminder.invocationId;
      await ctx.run("publish-ids", () => ({ welcomeId, reminderId }));
      ctx.cancel(reminderId);
      const welcomed = await ctx.attach<string>(welcomeId);
      let reminded: string;
      try {
        reminded = await ctx.attach<string>(reminderId);
      } catch (e) {
        reminded = e instanceof CancelledError ? "reminder cancelled" : String(e);
      }
      return { welcomeId, reminderId, welcomed, reminded };
    },
  },
});

describe("send handles", () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [mailer, signup], alwaysReplay: true });
  });
  afterAll(async () => env.close());

  it("give handlers the new invocation's id, stable across replays, to attach to and cancel", async () => {
    const id = await env.send("Signup", "register", "ada@example.com");
    const result = await env.result<{
      welcomeId: string;
      reminderId: string;
      welcomed: string;
      reminded: string;
    }>(id);
    expect(result).toMatchObject({ welcomed: "mailed ada@example.com now", reminded: "reminder cancelled" });
    // The ids are the runtime's: the send entries it recorded carry them.
    const sends = (await env.journal(id)).filter((e) => e.kind === "send");
    expect(sends.map((e) => (e.kind === "send" ? e.invocationId : undefined))).toEqual([
      result.welcomeId,
      result.reminderId,
    ]);
    expect(await env.describe(result.welcomeId)).toMatchObject({ status: "completed", outcome: "succeeded" });
    expect(await env.describe(result.reminderId)).toMatchObject({ status: "completed", outcome: "failed" });
  });

  it("give ingress clients a handle to attach to, which says when a key deduplicated the send", async () => {
    const client = connect({ url: env.ingressUrl });
    const first = await client
      .serviceSendClient<Mailer>({ name: "Mailer" })
      .now("bob", { idempotencyKey: "k1" });
    const again = await client.serviceSendClient(mailer).now("bob", { idempotencyKey: "k1" });
    expect(first.deduplicated).toBe(false);
    expect(again).toMatchObject({ invocationId: first.invocationId, deduplicated: true });
    const mailed: string = await first.attach();
    expect(mailed).toBe("mailed bob now");
    expect(await again.output()).toEqual({ ready: true, value: "mailed bob now" });
  });
});
