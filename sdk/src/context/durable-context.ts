import type { Completion, InvocationId, SendEntry, Target } from "../protocol";
import { formatAwakeableId, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_KEY_LENGTH, MAX_NAME_LENGTH } from "../protocol";
import { failureToError } from "../errors/failure";
import { TerminalError } from "../errors/terminal-error";
import { withCode } from "../errors/sdk-error-codes";
import type { Duration } from "../duration";
import { durationToMs } from "../duration";
import type { ResolvedHandler } from "../definitions/define";
import type { Client, SendClient } from "../definitions/definition";
import type { CapstanPromise } from "../engine/capstan-promise";
import { capstanPromise } from "../engine/capstan-promise";
import type { InvocationEngine } from "../engine/invocation-engine";
import { executeRun } from "../engine/run";
import type { Serde } from "../serde/serde";
import { deserializeValue, jsonSerde, serializeValue } from "../serde/serde";
import type {
  Awakeable,
  CallOptions,
  DateApi,
  DurablePromise,
  InvocationHandle,
  Logger,
  Rand,
  Request,
  RunOptions,
  SendOptions,
  WorkflowContext,
} from "./context-types";
import { DeterministicRand } from "./rand";
import { replayAwareLogger } from "./replay-aware-logger";
import { sendHandle } from "./send-handle";

function invalid(message: string): TerminalError {
  return new TerminalError(withCode("SDK_INVALID_ARGUMENT", message), { code: 400 });
}

function checkString(what: string, value: unknown, max: number): string {
  if (typeof value !== "string" || value.length > max) {
    throw invalid(`${what} must be a string of at most ${max} characters`);
  }
  return value;
}

/** Completion → value: value deserialized, empty → `emptyValue`, failure thrown as its error. */
function decode<T>(c: Completion, serde: Serde<T>, what: string, emptyValue: T): T {
  switch (c.kind) {
    case "value":
      return deserializeValue(serde, c.value, what);
    case "empty":
      return emptyValue;
    case "failure":
      throw failureToError(c.failure);
  }
}

/** Methods named after handlers, made on first access (`then` excluded so a client is not a thenable). */
function clientProxy<R>(
  make: (handler: string, args: unknown[]) => R,
): Record<string, (...args: unknown[]) => R> {
  return new Proxy(
    {},
    {
      get: (_t, prop) =>
        typeof prop === "string" && prop !== "then" ? (...args: unknown[]) => make(prop, args) : undefined,
    },
  );
}

/**
 * The one implementation behind every context type. What a handler may do is enforced twice: by its
 * static context type, and here at run time (state in services, writes in shared handlers).
 */
export class DurableContext implements WorkflowContext {
  readonly rand: Rand;
  readonly date: DateApi;
  readonly console: Logger;

  constructor(
    private readonly engine: InvocationEngine,
    private readonly handler: ResolvedHandler,
    sink: Logger,
  ) {
    const { request } = engine;
    this.rand = new DeterministicRand(request.invocationId);
    this.date = {
      now: () => this.run("ctx.date.now", () => Date.now()),
      toJSON: () => this.run("ctx.date.toJSON", () => new Date().toJSON()),
    };
    const target = `${request.target.service}/${request.target.handler}`;
    this.console = replayAwareLogger(
      sink,
      `[${target}][${request.invocationId}]`,
      () => engine.journal.replaying,
    );
  }

  get key(): string {
    return this.engine.request.target.key ?? "";
  }

  request(): Request {
    const r = this.engine.request;
    return { id: r.invocationId, headers: r.headers, attempt: r.attempt, target: r.target };
  }

  run<T>(name: string, fn: () => T | Promise<T>, options?: RunOptions<T>): CapstanPromise<T> {
    checkString("run name", name, MAX_NAME_LENGTH);
    return executeRun(this.engine, name, fn, options);
  }

  sleep(duration: Duration, name?: string): CapstanPromise<void> {
    if (name !== undefined) checkString("sleep name", name, MAX_NAME_LENGTH);
    return capstanPromise(this.engine.sleep(durationToMs(duration), name));
  }

  // --- state -----------------------------------------------------------------------------------------

  private requireState(op: string): void {
    if (this.handler.definition.kind === "service") {
      throw new TerminalError(withCode("SDK_STATE_UNAVAILABLE", `ctx.${op}: services have no state`));
    }
  }

  private requireWritable(op: string): void {
    this.requireState(op);
    if (this.handler.kind === "shared") {
      throw new TerminalError(
        withCode("SDK_STATE_READ_ONLY", `ctx.${op}: shared handler ${this.handler.name} may only read state`),
      );
    }
  }

  get<T>(name: string, serde?: Serde<T>): CapstanPromise<T | null> {
    this.requireState("get");
    checkString("state key", name, MAX_NAME_LENGTH);
    const { entry, recorded } = this.engine.command({ index: 0, kind: "getState", key: name });
    if (!recorded) {
      const known = this.engine.state.lookup(name);
      if (known !== undefined) {
        const result: Completion = known === null ? { kind: "empty" } : { kind: "value", value: known };
        this.engine.completeLocally(entry, result, this.engine.alwaysReplay);
      }
    }
    const s = serde ?? (jsonSerde as Serde<T>);
    return capstanPromise(
      this.engine.entrySource(entry, (c) => decode<T | null>(c, s, `state "${name}"`, null)),
    );
  }

  stateKeys(): CapstanPromise<string[]> {
    this.requireState("stateKeys");
    const { entry, recorded } = this.engine.command({ index: 0, kind: "getStateKeys" });
    if (!recorded) {
      const keys = this.engine.state.keys();
      if (keys !== undefined) {
        this.engine.completeLocally(
          entry,
          { kind: "value", value: JSON.stringify(keys) },
          this.engine.alwaysReplay,
        );
      }
    }
    return capstanPromise(
      this.engine.entrySource(entry, (c) =>
        decode<string[]>(c, jsonSerde as Serde<string[]>, "state keys", []),
      ),
    );
  }

  set<T>(name: string, value: T, serde?: Serde<T>): void {
    this.requireWritable("set");
    checkString("state key", name, MAX_NAME_LENGTH);
    const payload = serializeValue(serde ?? (jsonSerde as Serde<T>), value, `state "${name}"`);
    this.engine.command({ index: 0, kind: "setState", key: name, value: payload });
    this.engine.state.set(name, payload);
  }

  clear(name: string): void {
    this.requireWritable("clear");
    checkString("state key", name, MAX_NAME_LENGTH);
    this.engine.command({ index: 0, kind: "clearState", key: name });
    this.engine.state.clear(name);
  }

  clearAll(): void {
    this.requireWritable("clearAll");
    this.engine.command({ index: 0, kind: "clearAllState" });
    this.engine.state.clearAll();
  }

  // --- calls and sends -------------------------------------------------------------------------------

  private target(service: { name: string }, handler: string, key?: string): Target {
    const t: Target = {
      service: checkString("service name", service.name, MAX_NAME_LENGTH),
      handler: checkString("handler name", handler, MAX_NAME_LENGTH),
    };
    if (key !== undefined) t.key = checkString("key", key, MAX_KEY_LENGTH);
    return t;
  }

  private call(target: Target, args: unknown[]): CapstanPromise<unknown> {
    const [input, options = {}] = args as [unknown, CallOptions | undefined];
    const label = `${target.service}/${target.handler}`;
    const parameter = serializeValue(options.input ?? jsonSerde, input, `parameter of call ${label}`);
    const { entry } = this.engine.command({
      index: 0,
      kind: "call",
      target,
      parameter,
      ...(options.headers !== undefined && { headers: options.headers }),
      ...(options.idempotencyKey !== undefined && {
        idempotencyKey: checkString("idempotency key", options.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH),
      }),
    });
    const out = options.output ?? jsonSerde;
    return capstanPromise(
      this.engine.entrySource(entry, (c) => decode(c, out, `result of ${label}`, undefined)),
    );
  }

  private send(target: Target, args: unknown[], clientOptions: SendOptions | undefined): InvocationHandle {
    const [input, callOptions] = args as [unknown, SendOptions | undefined];
    const options = { ...clientOptions, ...callOptions };
    const parameter = serializeValue(
      options.input ?? jsonSerde,
      input,
      `parameter of send ${target.service}`,
    );
    const delayMs = options.delay !== undefined ? durationToMs(options.delay) : undefined;
    const { entry } = this.engine.command<SendEntry>({
      index: 0,
      kind: "send",
      target,
      parameter,
      ...(options.headers !== undefined && { headers: options.headers }),
      ...(options.idempotencyKey !== undefined && {
        idempotencyKey: checkString("idempotency key", options.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH),
      }),
      ...(delayMs !== undefined && delayMs > 0 && { delayMs }),
    });
    return sendHandle(entry, this.engine.request);
  }

  serviceClient<M>(service: { name: string }): Client<M> {
    return clientProxy((h, args) => this.call(this.target(service, h), args)) as Client<M>;
  }
  objectClient<M>(object: { name: string }, key: string): Client<M> {
    return clientProxy((h, args) => this.call(this.target(object, h, key), args)) as Client<M>;
  }
  workflowClient<M>(workflow: { name: string }, id: string): Client<M> {
    return clientProxy((h, args) => this.call(this.target(workflow, h, id), args)) as Client<M>;
  }
  serviceSendClient<M>(service: { name: string }, options?: SendOptions): SendClient<M> {
    return clientProxy((h, args) => this.send(this.target(service, h), args, options)) as SendClient<M>;
  }
  objectSendClient<M>(object: { name: string }, key: string, options?: SendOptions): SendClient<M> {
    return clientProxy((h, args) => this.send(this.target(object, h, key), args, options)) as SendClient<M>;
  }
  workflowSendClient<M>(workflow: { name: string }, id: string, options?: SendOptions): SendClient<M> {
    return clientProxy((h, args) => this.send(this.target(workflow, h, id), args, options)) as SendClient<M>;
  }

  // --- awakeables, promises, other invocations -------------------------------------------------------

  awakeable<T>(serde?: Serde<T>): Awakeable<T> {
    const { entry } = this.engine.command({ index: 0, kind: "awakeable" });
    const s = serde ?? (jsonSerde as Serde<T>);
    return {
      id: formatAwakeableId(this.engine.request.invocationId as InvocationId, entry.index),
      promise: capstanPromise(
        this.engine.entrySource(entry, (c) => decode<T>(c, s, "awakeable result", undefined as T)),
      ),
    };
  }

  resolveAwakeable<T>(id: string, value?: T, serde?: Serde<T>): void {
    checkString("awakeable id", id, MAX_NAME_LENGTH);
    const payload = serializeValue(serde ?? (jsonSerde as Serde<T | undefined>), value, "awakeable value");
    this.engine.command({
      index: 0,
      kind: "completeAwakeable",
      awakeableId: id,
      completion: { kind: "value", value: payload },
    });
  }

  rejectAwakeable(id: string, reason: string): void {
    checkString("awakeable id", id, MAX_NAME_LENGTH);
    this.engine.command({
      index: 0,
      kind: "completeAwakeable",
      awakeableId: id,
      completion: { kind: "failure", failure: { code: 500, message: reason, name: "TerminalError" } },
    });
  }

  promise<T>(name: string, serde?: Serde<T>): DurablePromise<T> {
    if (this.handler.definition.kind !== "workflow") {
      throw new TerminalError(withCode("SDK_STATE_UNAVAILABLE", "ctx.promise: only workflows have promises"));
    }
    checkString("promise name", name, MAX_NAME_LENGTH);
    const s = serde ?? (jsonSerde as Serde<T>);
    const what = `promise "${name}"`;
    const complete = (completion: Completion): CapstanPromise<void> => {
      const { entry } = this.engine.command({ index: 0, kind: "promiseComplete", name, completion });
      return capstanPromise(
        this.engine.entrySource(entry, (c) => decode<void>(c, jsonSerde, what, undefined)),
      );
    };
    return {
      get: () => {
        const { entry } = this.engine.command({ index: 0, kind: "promiseGet", name });
        return capstanPromise(this.engine.entrySource(entry, (c) => decode<T>(c, s, what, undefined as T)));
      },
      peek: () => {
        const { entry } = this.engine.command({ index: 0, kind: "promisePeek", name });
        return capstanPromise(
          this.engine.entrySource(entry, (c) => decode<T | undefined>(c, s, what, undefined)),
        );
      },
      resolve: (value?: T) =>
        complete({ kind: "value", value: serializeValue(s as Serde<T | undefined>, value, what) }),
      reject: (reason: string) =>
        complete({ kind: "failure", failure: { code: 500, message: reason, name: "TerminalError" } }),
    };
  }

  attach<T>(invocationId: string, serde?: Serde<T>): CapstanPromise<T> {
    checkString("invocation id", invocationId, MAX_NAME_LENGTH);
    const { entry } = this.engine.command({ index: 0, kind: "attach", invocationId });
    const s = serde ?? (jsonSerde as Serde<T>);
    return capstanPromise(
      this.engine.entrySource(entry, (c) => decode<T>(c, s, `result of ${invocationId}`, undefined as T)),
    );
  }

  cancel(invocationId: string): void {
    checkString("invocation id", invocationId, MAX_NAME_LENGTH);
    this.engine.command({ index: 0, kind: "cancelInvocation", invocationId });
  }
}
