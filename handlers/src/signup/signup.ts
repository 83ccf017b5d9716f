/**
 * Signup: a workflow, one per signup id (`/Signup/{id}/...`). `run` executes exactly once per id:
 * it emails a verification code, then waits up to a day on the durable promise "email-verified".
 * On Lambda nothing runs while it waits; the runtime resumes `run` when `verify` resolves the promise,
 * or when the day is over (→ "expired").
 *
 * `verify` and `status` are shared handlers: they run while `run` is waiting, read the workflow's
 * state, and `verify` completes its promise.
 */
import {
  isTimeoutError,
  TerminalError,
  workflow,
  type WorkflowContext,
  type WorkflowSharedContext,
} from "@capstan/sdk";
import { mailer } from "../shared/fake-mailer";

/** How long a verification code stays valid. */
export const VERIFICATION_WINDOW = { days: 1 } as const;
/** Longest email address (RFC 5321's path limit). */
export const MAX_EMAIL_LENGTH = 254;

export type SignupStatus = "pending" | "verified" | "expired";

export interface SignupState {
  email: string | null;
  status: SignupStatus | null;
}

export interface SignupResult {
  email: string;
  status: "verified" | "expired";
}

const VERIFIED = "email-verified";

function checkEmail(email: unknown): string {
  if (typeof email !== "string" || email.length > MAX_EMAIL_LENGTH || !/^[^@\s]+@[^@\s]+$/.test(email)) {
    throw new TerminalError("a valid email address is required", { code: 400 });
  }
  return email;
}

export const signup = workflow({
  name: "Signup",
  handlers: {
    /** `POST /Signup/{id}/run/send` with `"ada@example.com"`; read the result with `.../attach`. */
    async run(ctx: WorkflowContext, input: string): Promise<SignupResult> {
      const email = checkEmail(input);
      // ctx.rand is seeded from the invocation id: the same code on every replay, unguessable outside.
      const code = String(Math.floor(ctx.rand.random() * 1_000_000)).padStart(6, "0");
      ctx.set("email", email);
      ctx.set("code", code);
      ctx.set<SignupStatus>("status", "pending");

      await ctx.run("send-verification-email", () =>
        mailer.send({ to: email, subject: "Verify your email", body: `Your verification code is ${code}` }),
      );
      // ctx.console carries the invocation id and stays silent while a later attempt replays this.
      ctx.console.info(`verification email sent to ${email}; waiting up to a day`);

      try {
        await ctx.promise<string>(VERIFIED).get().orTimeout(VERIFICATION_WINDOW);
      } catch (e) {
        if (!isTimeoutError(e)) throw e;
        ctx.set<SignupStatus>("status", "expired");
        return { email, status: "expired" };
      }
      ctx.set<SignupStatus>("status", "verified");
      ctx.console.info(`${email} verified`);
      await ctx.run("send-welcome-email", () =>
        mailer.send({ to: email, subject: "Welcome!", body: "Your account is ready." }),
      );
      return { email, status: "verified" };
    },

    /** `POST /Signup/{id}/verify` with `"123456"`: resolves the workflow's promise if the code matches. */
    async verify(ctx: WorkflowSharedContext, code: string): Promise<SignupStatus> {
      const [expected, status] = [await ctx.get<string>("code"), await ctx.get<SignupStatus>("status")];
      if (expected === null) throw new TerminalError(`no signup ${ctx.key} in progress`, { code: 404 });
      if (status !== "pending")
        throw new TerminalError(`signup ${ctx.key} is already ${status}`, { code: 409 });
      if (code !== expected) throw new TerminalError("wrong verification code", { code: 400 });
      await ctx.promise<string>(VERIFIED).resolve(code);
      return "verified";
    },

    /** `POST /Signup/{id}/status`: where the signup stands (null fields before `run` started). */
    async status(ctx: WorkflowSharedContext): Promise<SignupState> {
      return { email: await ctx.get<string>("email"), status: await ctx.get<SignupStatus>("status") };
    },
  },
});
