/* eslint-disable @typescript-eslint/no-explicit-any -- inference over arbitrary handler signatures needs `any` */
import type { HandlerKind } from "../protocol";
import { MAX_NAME_LENGTH } from "../protocol";
import type {
  Context,
  ObjectContext,
  WorkflowContext,
  WorkflowSharedContext,
} from "../context/context-types";
import type {
  Definition,
  HandlerConfig,
  ObjectDefinition,
  ServiceDefinition,
  WorkflowDefinition,
} from "./definition";
import { DEFINITION } from "./definition";
import { handlerMeta } from "./handler-marker";

type Fn<C> = (ctx: C, input: any) => Promise<any>;
/** Method-style parameter check (bivariant), so `run` with the wider context still fits the record. */
type SharedFn<C> = { bivarianceHack(ctx: C, input: any): Promise<any> }["bivarianceHack"];
/** `run` gets the full workflow context; every other handler is shared (read-only state). */
type WorkflowHandlers = { run: Fn<WorkflowContext> } & Record<string, SharedFn<WorkflowSharedContext>>;

function checkName(kind: string, name: string, handlers: object): void {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new TypeError(`${kind} name must be 1..${MAX_NAME_LENGTH} characters`);
  }
  for (const [h, fn] of Object.entries(handlers)) {
    if (typeof fn !== "function") throw new TypeError(`${name}.${h} is not a function`);
    if (h.length > MAX_NAME_LENGTH) throw new TypeError(`${name}.${h}: handler name too long`);
  }
}

/**
 * Defines a stateless service. Handler input and output types flow into typed clients.
 *
 * @example
 * export const greeter = service({
 *   name: "Greeter",
 *   handlers: { greet: async (ctx, name: string) => `hello ${name}` },
 * });
 * // elsewhere: const msg = await ctx.serviceClient(greeter).greet("bob"); // typed string
 */
export function service<P extends string, M extends Record<string, Fn<Context>>>(definition: {
  name: P;
  handlers: M;
  options?: HandlerConfig;
}): ServiceDefinition<P, M> {
  checkName("service", definition.name, definition.handlers);
  return {
    [DEFINITION]: true,
    kind: "service",
    name: definition.name,
    handlers: definition.handlers,
    options: definition.options,
  };
}

/**
 * Defines a virtual object: state per key, exclusive handlers by default, `shared(...)` ones read-only.
 *
 * @example
 * export const counter = object({
 *   name: "Counter",
 *   handlers: {
 *     add: async (ctx, n: number) => { const v = ((await ctx.get<number>("v")) ?? 0) + n; ctx.set("v", v); return v; },
 *     get: shared(async (ctx) => (await ctx.get<number>("v")) ?? 0),
 *   },
 * });
 */
export function object<P extends string, M extends Record<string, Fn<ObjectContext>>>(definition: {
  name: P;
  handlers: M;
  options?: HandlerConfig;
}): ObjectDefinition<P, M> {
  checkName("object", definition.name, definition.handlers);
  return {
    [DEFINITION]: true,
    kind: "object",
    name: definition.name,
    handlers: definition.handlers,
    options: definition.options,
  };
}

/**
 * Defines a workflow: `run` executes once per workflow id; the other handlers are shared (signals,
 * queries) and can complete the workflow's durable promises.
 *
 * @example
 * export const signup = workflow({
 *   name: "Signup",
 *   handlers: {
 *     run: async (ctx, email: string) => { await ctx.promise<string>("confirmed").get(); return "done"; },
 *     confirm: async (ctx, token: string) => ctx.promise<string>("confirmed").resolve(token),
 *   },
 * });
 */
export function workflow<P extends string, M extends WorkflowHandlers>(definition: {
  name: P;
  handlers: M;
  options?: HandlerConfig;
}): WorkflowDefinition<P, M> {
  checkName("workflow", definition.name, definition.handlers);
  if (typeof definition.handlers.run !== "function") throw new TypeError("a workflow needs a run handler");
  return {
    [DEFINITION]: true,
    kind: "workflow",
    name: definition.name,
    handlers: definition.handlers,
    options: definition.options,
  };
}

/** A handler resolved for one invocation: its function, kind and merged options. */
export interface ResolvedHandler {
  definition: Definition;
  name: string;
  fn: (ctx: unknown, input: unknown) => Promise<unknown>;
  kind: HandlerKind;
  /** Service options overridden by the handler's own. */
  config: HandlerConfig;
  ownConfig: HandlerConfig | undefined;
}

export function handlerKind(definition: Definition, name: string, fn: unknown): HandlerKind {
  switch (definition.kind) {
    case "service":
      return "stateless";
    case "object":
      return handlerMeta(fn).shared === true ? "shared" : "exclusive";
    case "workflow":
      return name === "run" ? "workflow" : "shared";
  }
}

export function resolveHandler(definition: Definition, name: string): ResolvedHandler | undefined {
  const handlers = definition.handlers as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(handlers, name)) return undefined;
  const fn = handlers[name];
  if (typeof fn !== "function") return undefined;
  const ownConfig = handlerMeta(fn).config;
  return {
    definition,
    name,
    fn: fn as ResolvedHandler["fn"],
    kind: handlerKind(definition, name, fn),
    config: { ...definition.options, ...ownConfig },
    ownConfig,
  };
}
