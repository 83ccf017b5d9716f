/**
 * Greeter: the smallest durable service. A durable step and a durable timer, nothing else.
 *
 * `greet` composes the greeting in a step (imagine a call to a translation API: it runs once, and a
 * replay reuses the recorded result), then pauses 100 ms on a durable timer. `greetLater` waits an
 * hour: on Lambda the function suspends and costs nothing meanwhile; the runtime wakes it up.
 */
import { service, TerminalError, type Context } from "@capstan/sdk";

/** Longest name we greet: every input has a limit. */
export const MAX_NAME_LENGTH = 100;

let composed = 0;

/** Stands in for a slow or flaky API; counts its calls so tests can prove the step ran once. */
export async function composeGreeting(name: string): Promise<string> {
  composed++;
  return `Hello, ${name}!`;
}

/** How many times `composeGreeting` ran in this process. */
export function composeGreetingCalls(): number {
  return composed;
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || name.trim() === "" || name.length > MAX_NAME_LENGTH) {
    throw new TerminalError(`name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`, {
      code: 400,
    });
  }
  return name.trim();
}

export const greeter = service({
  name: "Greeter",
  handlers: {
    /** `POST /Greeter/greet` with body `"Ada"` → `"Hello, Ada!"`. */
    async greet(ctx: Context, name: string): Promise<string> {
      const greeting = await ctx.run("compose-greeting", () => composeGreeting(checkName(name)));
      await ctx.sleep({ milliseconds: 100 });
      return greeting;
    },

    /** `POST /Greeter/greetLater/send` with body `"Ada"`: answers an hour later (attach to read it). */
    async greetLater(ctx: Context, name: string): Promise<string> {
      const valid = checkName(name);
      await ctx.sleep({ hours: 1 }, "wait-an-hour");
      return ctx.run("compose-greeting", () => composeGreeting(valid));
    },
  },
});
