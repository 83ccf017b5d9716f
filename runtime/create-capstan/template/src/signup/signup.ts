/**
 * Signup: a workflow. `run` executes once per workflow id: it records a verification code and waits
 * on a durable promise — for days if need be — until `verify` (a shared handler) resolves it.
 */
import { workflow, type WorkflowContext, type WorkflowSharedContext } from "@capstan/sdk";

export const signup = workflow({
  name: "Signup",
  handlers: {
    /** `POST /Signup/{id}/run` with the email; answers once the email is verified. */
    async run(ctx: WorkflowContext, email: string): Promise<string> {
      const code = await ctx.run("make-code", () => ctx.rand.uuidv4().slice(0, 6));
      ctx.set("code", code);
      await ctx.run("send-email", () => console.log(`verification code for ${email}: ${code}`));
      const verified = await ctx.promise<boolean>("verified").get();
      return verified ? `${email} verified` : `${email} not verified`;
    },
    /** `POST /Signup/{id}/verify` with the code. */
    async verify(ctx: WorkflowSharedContext, code: string): Promise<boolean> {
      const ok = code === (await ctx.get<string>("code"));
      if (ok) await ctx.promise<boolean>("verified").resolve(true);
      return ok;
    },
  },
});
