/**
 * Greeter: a service. One durable step and a durable timer: the step runs once, a replay reuses its
 * recorded result, and on Lambda the function suspends during a long sleep and costs nothing.
 */
import { service, TerminalError, type Context } from "@capstan/sdk";

/** Longest name we greet: every input has a limit. */
export const MAX_NAME_LENGTH = 100;

export const greeter = service({
  name: "Greeter",
  handlers: {
    /** `POST /Greeter/greet` with body `"Ada"` → `"Hello, Ada!"`. */
    async greet(ctx: Context, name: string): Promise<string> {
      if (typeof name !== "string" || name === "" || name.length > MAX_NAME_LENGTH) {
        throw new TerminalError(`name must be 1..${MAX_NAME_LENGTH} characters`, { code: 400 });
      }
      const greeting = await ctx.run("compose-greeting", () => `Hello, ${name}!`);
      await ctx.sleep({ milliseconds: 100 });
      return greeting;
    },
  },
});
