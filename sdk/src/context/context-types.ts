import type { RetryPolicy, Target } from "../protocol";
import type { Duration } from "../duration";
import type { CapstanPromise } from "../engine/capstan-promise";
import type { Serde } from "../serde/serde";
import type {
  Client,
  ClientHandlers,
  HandlersOf,
  NamedTarget,
  ObjectDefinition,
  SendClient,
  ServiceDefinition,
  WorkflowDefinition,
} from "../definitions/definition";

/** What the handler knows about its invocation. */
export interface Request {
  id: string;
  headers: Readonly<Record<string, string>>;
  /** 1-based attempt number. */
  attempt: number;
  target: Target;
}

/** Deterministic randomness, seeded from the invocation id: the same on every replay. */
export interface Rand {
  /** A float in [0, 1). */
  random(): number;
  uuidv4(): string;
}

/** The clock, journaled so replays see the same time. */
export interface DateApi {
  /** Epoch milliseconds, recorded as a run entry named "ctx.date.now". */
  now(): CapstanPromise<number>;
  /** ISO-8601 string, recorded as a run entry named "ctx.date.toJSON". */
  toJSON(): CapstanPromise<string>;
}

/** A console that is silent while the handler replays recorded entries. */
export interface Logger {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

/** Retry policy and serde of one `ctx.run` step. Without maxAttempts/maxDurationMs it retries forever. */
export interface RunOptions<T> extends Omit<RetryPolicy, "onMaxAttempts"> {
  serde?: Serde<T>;
}

/** Options of a call through a typed client. */
export interface CallOptions {
  /** Same key → same invocation and result, within the target's retention. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  input?: Serde;
  output?: Serde;
}

/** Options of a one-way send. */
export interface SendOptions {
  idempotencyKey?: string;
  headers?: Record<string, string>;
  input?: Serde;
  /** Deliver after this long (a durable timer on the runtime). */
  delay?: Duration;
}

/**
 * What a one-way send returns: the id of the invocation it starts, to attach to, cancel or hand out.
 *
 * @example
 * const handle = ctx.serviceSendClient(mailer).send(mail, { delay: { days: 1 } });
 * const id = await handle.invocationId;   // the same id on every replay
 * ctx.cancel(id);                          // changed our mind: the mail is not sent
 */
export interface InvocationHandle {
  /**
   * The new invocation's id, derived from this invocation and the send's journal entry exactly as
   * the runtime assigns it. (With an idempotency key that the runtime finds already used, the send
   * starts nothing and this id names no invocation.)
   */
  readonly invocationId: Promise<string>;
}

/** An id to hand to another system and the promise it completes. */
export interface Awakeable<T> {
  id: string;
  promise: CapstanPromise<T>;
}

/** A workflow's named durable promise, completed once by any handler of the same workflow. */
export interface DurablePromise<T> {
  /** Waits until completed. */
  get(): CapstanPromise<T>;
  /** The value if already completed, else undefined, without waiting. */
  peek(): CapstanPromise<T | undefined>;
  /** Completes it; rejects with a TerminalError (409) if it was already completed. */
  resolve(value?: T): CapstanPromise<void>;
  reject(reason: string): CapstanPromise<void>;
}

/**
 * The durable context of a service handler. Everything non-deterministic goes through it.
 *
 * @example
 * async greet(ctx: Context, name: string) {
 *   const id = ctx.rand.uuidv4();
 *   await ctx.run("send-email", () => mailer.send(name, id));
 *   await ctx.sleep({ seconds: 5 });
 *   return `hello ${name}`;
 * }
 */
/** Handlers of a target known only by name: any input, unknown output. */
type Untyped = Record<string, (ctx: unknown, input?: unknown) => Promise<unknown>>;

export interface Context {
  /** The invocation's id, headers, attempt and target. */
  request(): Request;
  readonly rand: Rand;
  readonly date: DateApi;
  readonly console: Logger;
  /** Runs `fn` at least once until its result (or terminal failure) is durable; never again after. */
  run<T>(name: string, fn: () => T | Promise<T>, options?: RunOptions<T>): CapstanPromise<T>;
  /** A durable timer: the runtime wakes the handler after `duration`, even across suspension. */
  sleep(duration: Duration, name?: string): CapstanPromise<void>;
  /**
   * A request/response client. Pass the definition, or — for a service in another function, without
   * bundling its code — its name, typed by the definition's type:
   *
   * @example
   * import type { warehouse } from "../warehouse/warehouse"; // erased at build time
   * const picked = await ctx.serviceClient<typeof warehouse>({ name: "Warehouse" }).pick(line);
   */
  serviceClient<M>(service: ServiceDefinition<string, M>): Client<M>;
  serviceClient<D = Untyped>(service: NamedTarget<D>): Client<ClientHandlers<D>>;
  objectClient<M>(object: ObjectDefinition<string, M>, key: string): Client<M>;
  objectClient<D = Untyped>(object: NamedTarget<D>, key: string): Client<ClientHandlers<D>>;
  workflowClient<M>(workflow: WorkflowDefinition<string, M>, id: string): Client<M>;
  workflowClient<D = Untyped>(workflow: NamedTarget<D>, id: string): Client<ClientHandlers<D>>;
  /** A one-way client: each call records a send and returns a handle to the new invocation. */
  serviceSendClient<M>(service: ServiceDefinition<string, M>, options?: SendOptions): SendClient<M>;
  serviceSendClient<D = Untyped>(
    service: NamedTarget<D>,
    options?: SendOptions,
  ): SendClient<ClientHandlers<D>>;
  objectSendClient<M>(object: ObjectDefinition<string, M>, key: string, options?: SendOptions): SendClient<M>;
  objectSendClient<D = Untyped>(
    object: NamedTarget<D>,
    key: string,
    options?: SendOptions,
  ): SendClient<ClientHandlers<D>>;
  workflowSendClient<M>(
    workflow: WorkflowDefinition<string, M>,
    id: string,
    options?: SendOptions,
  ): SendClient<M>;
  workflowSendClient<D = Untyped>(
    workflow: NamedTarget<D>,
    id: string,
    options?: SendOptions,
  ): SendClient<ClientHandlers<D>>;
  /** A promise completed from outside by id (`resolveAwakeable`, the ingress, another handler). */
  awakeable<T>(serde?: Serde<T>): Awakeable<T>;
  resolveAwakeable<T>(id: string, value?: T, serde?: Serde<T>): void;
  rejectAwakeable(id: string, reason: string): void;
  /** Waits for another invocation's result. */
  attach<T>(invocationId: string, serde?: Serde<T>): CapstanPromise<T>;
  /** Asks the runtime to cancel another invocation (it sees CancelledError at its next await). */
  cancel(invocationId: string): void;
}

/** Context of an object's shared handler: read-only state. */
export interface ObjectSharedContext extends Context {
  /** The object key (or workflow id). */
  readonly key: string;
  /** The value, or null when absent. */
  get<T>(name: string, serde?: Serde<T>): CapstanPromise<T | null>;
  stateKeys(): CapstanPromise<string[]>;
}

/** Context of an object's exclusive handler: state writes commit with the journal. */
export interface ObjectContext extends ObjectSharedContext {
  set<T>(name: string, value: T, serde?: Serde<T>): void;
  clear(name: string): void;
  clearAll(): void;
}

/** Context of a workflow's shared handlers (signals, queries). */
export interface WorkflowSharedContext extends ObjectSharedContext {
  promise<T>(name: string, serde?: Serde<T>): DurablePromise<T>;
}

/** Context of a workflow's `run` handler. */
export interface WorkflowContext extends WorkflowSharedContext, ObjectContext {}

export type { HandlersOf };
