/* eslint-disable @typescript-eslint/no-explicit-any -- inference over arbitrary handler signatures needs `any` */
import type { HandlerConfig } from "./definition";

const HANDLER_META = Symbol.for("capstan.handlerMeta");

/** How a handler was declared: its concurrency for objects, and its own options. */
export interface HandlerMeta {
  shared?: boolean;
  config?: HandlerConfig;
}

/** A copy of `fn` carrying `meta`; the user's function object is left untouched. */
export function markHandler<F extends (...args: any[]) => any>(fn: F, meta: HandlerMeta): F {
  const wrapped = function (this: unknown, ...args: unknown[]) {
    return fn.apply(this, args) as unknown;
  };
  Object.defineProperty(wrapped, "name", { value: fn.name });
  Object.defineProperty(wrapped, HANDLER_META, { value: { ...handlerMeta(fn), ...meta } });
  return wrapped as unknown as F;
}

export function handlerMeta(fn: unknown): HandlerMeta {
  if (typeof fn !== "function") return {};
  return (fn as unknown as Record<symbol, HandlerMeta | undefined>)[HANDLER_META] ?? {};
}
