/* eslint-disable @typescript-eslint/no-explicit-any -- inference over arbitrary handler signatures needs `any` */
import type {
  ClientArgs,
  ClientHandlers,
  NamedTarget,
  HandlerInput,
  HandlerOutput,
  ObjectDefinition,
  ServiceDefinition,
  WorkflowDefinition,
} from "../definitions/definition";
import type { Duration } from "../duration";
import { durationToMs } from "../duration";
import { CONTENT_TYPE_JSON, HEADER_IDEMPOTENCY_KEY, HEADER_INVOCATION_ID } from "../protocol";
import { IngressError } from "./ingress-error";

/** Options of a request/response call through the ingress. */
export interface IngressCallOptions {
  idempotencyKey?: string;
  headers?: Record<string, string>;
}
/** Options of a one-way send through the ingress. */
export interface IngressSendOptions extends IngressCallOptions {
  delay?: Duration;
}
/** The answer to a send: the invocation it created (or found by idempotency key). */
export interface Send {
  invocationId: string;
  /** Restate's: "Accepted", or "PreviouslyAccepted" when an idempotency key found an earlier one. */
  status: string;
}

/**
 * A one-way send's handle: the new invocation's id, and its result when you want it after all.
 *
 * @example
 * const handle = await client.serviceSendClient(mailer).send(mail, { idempotencyKey: "m-1" });
 * handle.invocationId;       // "inv_…": cancel it with `capstan invocations cancel <id>`
 * await handle.attach();     // waits for the handler's output
 */
export interface SendHandle<O> extends Send {
  /** True when the idempotency key mapped this send to an earlier invocation (no new one started). */
  deduplicated: boolean;
  /** Waits for the invocation's result. */
  attach(): Promise<O>;
  /** Its result if it is done. */
  output(): Promise<Output<O>>;
}
/** An invocation's result if it has one yet. */
export type Output<T> = { ready: true; value: T } | { ready: false };

type Keys<M> = { [K in keyof M]: M[K] extends (...args: any[]) => any ? K : never }[keyof M];
export type IngressClient<M> = {
  [K in Keys<M>]: (
    ...args: ClientArgs<HandlerInput<M[K]>, IngressCallOptions>
  ) => Promise<HandlerOutput<M[K]>>;
};
export type IngressSendClient<M> = {
  [K in Keys<M>]: (
    ...args: ClientArgs<HandlerInput<M[K]>, IngressSendOptions>
  ) => Promise<SendHandle<HandlerOutput<M[K]>>>;
};
/** A workflow client: its handlers, plus submit/attach/output of its `run`. */
export type IngressWorkflowClient<M> = IngressClient<M> & {
  workflowSubmit(
    ...args: ClientArgs<M extends { run: infer R } ? HandlerInput<R> : never, IngressCallOptions>
  ): Promise<SendHandle<M extends { run: infer R } ? HandlerOutput<R> : never>>;
  workflowAttach(): Promise<M extends { run: infer R } ? HandlerOutput<R> : never>;
  workflowOutput(): Promise<Output<M extends { run: infer R } ? HandlerOutput<R> : never>>;
};

/** A typed client of the runtime's ingress (Restate-compatible paths). */
type Untyped = Record<string, (ctx: unknown, input?: unknown) => Promise<unknown>>;

export interface Ingress {
  /**
   * A request/response client: pass the definition, or its name typed by the definition's type
   * (`client.serviceClient<typeof greeter>({ name: "Greeter" })` with `import type { greeter }`).
   */
  serviceClient<M>(service: ServiceDefinition<string, M>): IngressClient<M>;
  serviceClient<D = Untyped>(service: NamedTarget<D>): IngressClient<ClientHandlers<D>>;
  objectClient<M>(object: ObjectDefinition<string, M>, key: string): IngressClient<M>;
  objectClient<D = Untyped>(object: NamedTarget<D>, key: string): IngressClient<ClientHandlers<D>>;
  workflowClient<M>(workflow: WorkflowDefinition<string, M>, id: string): IngressWorkflowClient<M>;
  workflowClient<D = Untyped>(workflow: NamedTarget<D>, id: string): IngressWorkflowClient<ClientHandlers<D>>;
  /** A one-way client: each call resolves with a SendHandle once the runtime accepted the send. */
  serviceSendClient<M>(service: ServiceDefinition<string, M>): IngressSendClient<M>;
  serviceSendClient<D = Untyped>(service: NamedTarget<D>): IngressSendClient<ClientHandlers<D>>;
  objectSendClient<M>(object: ObjectDefinition<string, M>, key: string): IngressSendClient<M>;
  objectSendClient<D = Untyped>(object: NamedTarget<D>, key: string): IngressSendClient<ClientHandlers<D>>;
  workflowSendClient<M>(workflow: WorkflowDefinition<string, M>, id: string): IngressSendClient<M>;
  workflowSendClient<D = Untyped>(workflow: NamedTarget<D>, id: string): IngressSendClient<ClientHandlers<D>>;
  /** Waits for the invocation's result. */
  attach<T>(invocationId: string): Promise<T>;
  /** The invocation's result if it is done. */
  output<T>(invocationId: string): Promise<Output<T>>;
  resolveAwakeable<T>(id: string, value?: T): Promise<void>;
  rejectAwakeable(id: string, reason: string): Promise<void>;
}

/** Options of `connect`. */
export interface ConnectOptions {
  /** Base URL of the ingress, e.g. http://localhost:8080 */
  url: string;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

const enc = encodeURIComponent;

function parse(text: string): unknown {
  return text === "" ? undefined : JSON.parse(text);
}

/** Restate's ingress answers 470 for an output that is not ready yet. */
const NOT_READY_STATUS = 470;

/**
 * Connects to a runtime's ingress. Clients are typed from the definitions; no SDK handler code runs.
 *
 * @example
 * const client = connect({ url: "http://localhost:8080" });
 * const msg = await client.serviceClient(greeter).greet("bob", { idempotencyKey: "req-1" });
 * const { invocationId } = await client.objectSendClient(counter, "a").add(1, { delay: { seconds: 10 } });
 */
export function connect(options: ConnectOptions): Ingress {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;

  async function request(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: {
        ...options.headers,
        ...(body !== undefined && { "content-type": CONTENT_TYPE_JSON }),
        ...headers,
      },
      ...(body !== undefined && { body }),
    });
    const text = await res.text();
    return { res, text };
  }

  function fail(res: Response, text: string): never {
    let code: string | undefined;
    let message = text || res.statusText;
    try {
      const b = JSON.parse(text) as { code?: unknown; capstanCode?: unknown; message?: unknown };
      // An invocation's failure carries Restate's numeric `code`; Capstan's stable one is beside it.
      if (typeof b.capstanCode === "string") code = b.capstanCode;
      else if (typeof b.code === "string") code = b.code;
      if (typeof b.message === "string") message = b.message;
    } catch {
      // not JSON: keep the text
    }
    throw new IngressError(res.status, code, `ingress answered ${res.status}: ${message}`);
  }

  function callHeaders(o: IngressCallOptions | undefined): Record<string, string> {
    return {
      ...o?.headers,
      ...(o?.idempotencyKey !== undefined && { [HEADER_IDEMPOTENCY_KEY]: o.idempotencyKey }),
    };
  }

  async function call(path: string, input: unknown, o: IngressCallOptions | undefined): Promise<unknown> {
    const { res, text } = await request(
      "POST",
      path,
      input === undefined ? "" : JSON.stringify(input),
      callHeaders(o),
    );
    if (!res.ok) fail(res, text);
    return parse(text);
  }

  async function send(
    path: string,
    input: unknown,
    o: IngressSendOptions | undefined,
  ): Promise<SendHandle<unknown>> {
    const delay = o?.delay !== undefined ? `?delay=${durationToMs(o.delay)}ms` : "";
    const { res, text } = await request(
      "POST",
      `${path}/send${delay}`,
      input === undefined ? "" : JSON.stringify(input),
      callHeaders(o),
    );
    if (!res.ok) fail(res, text);
    const body = (parse(text) ?? {}) as Partial<Send>;
    const invocationId = body.invocationId ?? res.headers.get(HEADER_INVOCATION_ID) ?? "";
    const status = body.status ?? "Accepted";
    return {
      invocationId,
      status,
      deduplicated: status === "PreviouslyAccepted",
      attach: () => get(`/restate/invocation/${enc(invocationId)}/attach`),
      output: () => output(`/restate/invocation/${enc(invocationId)}/output`),
    };
  }

  async function get(path: string): Promise<unknown> {
    const { res, text } = await request("GET", path);
    if (!res.ok) fail(res, text);
    return parse(text);
  }

  async function output(path: string): Promise<Output<unknown>> {
    const { res, text } = await request("GET", path);
    if (res.status === NOT_READY_STATUS) return { ready: false };
    if (!res.ok) fail(res, text);
    return { ready: true, value: parse(text) };
  }

  const proxy = <R>(make: (handler: string, args: unknown[]) => R, extra: Record<string, unknown> = {}) =>
    new Proxy(extra, {
      get: (t, prop) =>
        typeof prop !== "string" || prop === "then"
          ? undefined
          : prop in t
            ? t[prop]
            : (...args: unknown[]) => make(prop, args),
    });

  const callProxy = (prefix: string) =>
    proxy((h, [input, o]) => call(`${prefix}/${enc(h)}`, input, o as IngressCallOptions | undefined));
  const sendProxy = (prefix: string) =>
    proxy((h, [input, o]) => send(`${prefix}/${enc(h)}`, input, o as IngressSendOptions | undefined));

  return {
    serviceClient: (s) => callProxy(`/${enc(s.name)}`) as never,
    objectClient: (o, key) => callProxy(`/${enc(o.name)}/${enc(key)}`) as never,
    workflowClient: (w, id) => {
      const prefix = `/${enc(w.name)}/${enc(id)}`;
      const wf = `/restate/workflow/${enc(w.name)}/${enc(id)}`;
      return proxy(
        (h, [input, o]) => call(`${prefix}/${enc(h)}`, input, o as IngressCallOptions | undefined),
        {
          workflowSubmit: (input?: unknown, o?: IngressCallOptions) => send(`${prefix}/run`, input, o),
          workflowAttach: () => get(`${wf}/attach`),
          workflowOutput: () => output(`${wf}/output`),
        },
      ) as never;
    },
    serviceSendClient: (s) => sendProxy(`/${enc(s.name)}`) as never,
    objectSendClient: (o, key) => sendProxy(`/${enc(o.name)}/${enc(key)}`) as never,
    workflowSendClient: (w, id) => sendProxy(`/${enc(w.name)}/${enc(id)}`) as never,
    attach: (id) => get(`/restate/invocation/${enc(id)}/attach`) as never,
    output: (id) => output(`/restate/invocation/${enc(id)}/output`) as never,
    async resolveAwakeable(id, value) {
      const { res, text } = await request(
        "POST",
        `/restate/awakeables/${enc(id)}/resolve`,
        value === undefined ? "" : JSON.stringify(value),
      );
      if (!res.ok) fail(res, text);
    },
    async rejectAwakeable(id, reason) {
      const { res, text } = await request("POST", `/restate/awakeables/${enc(id)}/reject`, reason, {
        "content-type": "text/plain",
      });
      if (!res.ok) fail(res, text);
    },
  };
}
