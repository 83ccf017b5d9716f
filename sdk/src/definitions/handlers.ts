/* eslint-disable @typescript-eslint/no-explicit-any -- inference over arbitrary handler signatures needs `any` */
import type {
  Context,
  ObjectContext,
  ObjectSharedContext,
  WorkflowContext,
  WorkflowSharedContext,
} from "../context/context-types";
import type { HandlerConfig } from "./definition";
import { markHandler } from "./handler-marker";

type Fn<C> = (ctx: C, input: any) => Promise<any>;

function withConfig<F extends Fn<any>>(
  configOrFn: HandlerConfig | F,
  fn: F | undefined,
  shared?: boolean,
): F {
  const handler = typeof configOrFn === "function" ? configOrFn : fn;
  if (handler === undefined) throw new TypeError("a handler function is required");
  const config = typeof configOrFn === "function" ? undefined : configOrFn;
  return markHandler(handler, {
    ...(shared !== undefined && { shared }),
    ...(config !== undefined && { config }),
  });
}

/**
 * Marks an object handler as shared: it runs concurrently with others on the same key and may only read
 * state (`ctx.set` in it throws a TerminalError).
 *
 * @example
 * object({ name: "Counter", handlers: {
 *   add: async (ctx, n: number) => ctx.set("n", ((await ctx.get<number>("n")) ?? 0) + n),
 *   current: shared(async (ctx) => (await ctx.get<number>("n")) ?? 0),
 * }});
 */
export function shared<F extends Fn<ObjectSharedContext>>(fn: F): F;
export function shared<F extends Fn<ObjectSharedContext>>(config: HandlerConfig, fn: F): F;
export function shared<F extends Fn<ObjectSharedContext>>(configOrFn: HandlerConfig | F, fn?: F): F {
  return withConfig(configOrFn, fn, true);
}

/**
 * Handler builders with per-handler options, named like Restate's so code migrates as is.
 *
 * @example
 * service({ name: "Payments", handlers: {
 *   charge: handlers.handler({ retryPolicy: { maxAttempts: 3 } }, async (ctx, req: Charge) => pay(ctx, req)),
 * }});
 */
export const handlers = {
  /** A service handler with options. */
  handler<F extends Fn<Context>>(config: HandlerConfig, fn: F): F {
    return withConfig(config, fn);
  },
  object: {
    /** An exclusive object handler (the default) with options. */
    exclusive<F extends Fn<ObjectContext>>(configOrFn: HandlerConfig | F, fn?: F): F {
      return withConfig(configOrFn, fn, false);
    },
    /** A shared (concurrent, read-only) object handler. */
    shared<F extends Fn<ObjectSharedContext>>(configOrFn: HandlerConfig | F, fn?: F): F {
      return withConfig(configOrFn, fn, true);
    },
  },
  workflow: {
    /** The workflow's `run` handler with options. */
    workflow<F extends Fn<WorkflowContext>>(configOrFn: HandlerConfig | F, fn?: F): F {
      return withConfig(configOrFn, fn, false);
    },
    /** A workflow shared handler with options (every handler but `run` is shared anyway). */
    shared<F extends Fn<WorkflowSharedContext>>(configOrFn: HandlerConfig | F, fn?: F): F {
      return withConfig(configOrFn, fn, true);
    },
  },
};
