/* eslint-disable @typescript-eslint/no-explicit-any -- inference over arbitrary handler signatures needs `any` */
import type { HandlerOptions } from "../protocol";
import type { CapstanPromise } from "../engine/capstan-promise";
import type { Serde } from "../serde/serde";
import type { CallOptions, InvocationHandle, SendOptions } from "../context/context-types";

export const DEFINITION = Symbol.for("capstan.definition");

/**
 * Options of a service (defaults for its handlers) or of one handler; reported in discovery except the
 * serdes, which stay in the SDK.
 *
 * @example
 * service({ name: "Mailer", handlers, options: { retryPolicy: { maxAttempts: 5 }, abortTimeoutMs: 60_000 } })
 * // only other handlers may call it; the ingress answers 403 INGRESS_HANDLER_PRIVATE
 * service({ name: "Ledger", handlers, options: { ingressPrivate: true } })
 */
export interface HandlerConfig extends HandlerOptions {
  /** Serde of the input and output (JSON by default). */
  serde?: Serde;
  input?: Serde;
  output?: Serde;
}

interface DefinitionBase<P extends string, M> {
  readonly [DEFINITION]: true;
  readonly name: P;
  readonly handlers: M;
  readonly options: HandlerConfig | undefined;
}

/** A stateless service: handlers run concurrently without a key. */
export interface ServiceDefinition<P extends string, M> extends DefinitionBase<P, M> {
  readonly kind: "service";
}
/** A virtual object: keyed state; one exclusive handler per key at a time. */
export interface ObjectDefinition<P extends string, M> extends DefinitionBase<P, M> {
  readonly kind: "object";
}
/** A workflow: `run` once per id; shared handlers signal and query it. */
export interface WorkflowDefinition<P extends string, M> extends DefinitionBase<P, M> {
  readonly kind: "workflow";
}

/** Any definition an endpoint can serve. */
export type Definition =
  | ServiceDefinition<string, unknown>
  | ObjectDefinition<string, unknown>
  | WorkflowDefinition<string, unknown>;

export type HandlersOf<D> = D extends DefinitionBase<string, infer M> ? M : never;

/** The input type of a handler `(ctx, input) => Promise<O>`; undefined when it takes none. */
export type HandlerInput<F> = F extends (ctx: any, ...args: infer A) => any
  ? A extends []
    ? undefined
    : A extends [infer I, ...any[]]
      ? I
      : A extends [(infer I)?]
        ? I | undefined
        : undefined
  : never;

export type HandlerOutput<F> = F extends (...args: any[]) => infer R ? Awaited<R> : never;

/** Arguments of a client method: the input (optional when the handler accepts undefined) and options. */
export type ClientArgs<I, O> = undefined extends I ? [input?: I, options?: O] : [input: I, options?: O];

type HandlerKeys<M> = { [K in keyof M]: M[K] extends (...args: any[]) => any ? K : never }[keyof M];

/** A typed request/response client: one method per handler, returning a durable promise of its output. */
export type Client<M> = {
  [K in HandlerKeys<M>]: (
    ...args: ClientArgs<HandlerInput<M[K]>, CallOptions>
  ) => CapstanPromise<HandlerOutput<M[K]>>;
};

/**
 * A typed one-way client: one method per handler; the message is sent once the entry is recorded.
 * Each returns a handle with the new invocation's id.
 */
export type SendClient<M> = {
  [K in HandlerKeys<M>]: (...args: ClientArgs<HandlerInput<M[K]>, SendOptions>) => InvocationHandle;
};

/**
 * The handlers a client by name is typed with: a definition's type — `typeof warehouse`, imported
 * with `import type` so none of the other function's code is bundled — or a map of handler
 * signatures. Anything else (no type argument) leaves the client untyped.
 */
export type ClientHandlers<D> = D extends DefinitionBase<string, infer M> ? M : D;

/** What a client by name takes: `{ name }`, which must be the definition's own name when typed by one. */
export type NamedTarget<D> = D extends DefinitionBase<infer P, unknown> ? { name: P } : { name: string };

export function isDefinition(v: unknown): v is Definition {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[DEFINITION] === true;
}
