/**
 * MiddyGreeter: the Greeter use case deployed through middy, for teams whose Lambdas already share a
 * middy stack (logging, tracing, warmup). The service is an ordinary Capstan definition; only
 * handler.ts differs.
 */
import { service, TerminalError, type Context } from "@capstan/sdk";

export const middyGreeter = service({
  name: "MiddyGreeter",
  handlers: {
    /** `POST /MiddyGreeter/greet` with body `"Ada"` → `"Hello from middy, Ada!"`. */
    async greet(ctx: Context, name: string): Promise<string> {
      if (typeof name !== "string" || name.trim() === "" || name.length > 100) {
        throw new TerminalError("name must be a non-empty string of at most 100 characters", { code: 400 });
      }
      const greeting = await ctx.run("compose-greeting", () => `Hello from middy, ${name.trim()}!`);
      await ctx.sleep({ milliseconds: 100 });
      return greeting;
    },
  },
});
