const INGRESS_ERROR = Symbol.for("capstan.IngressError");

/**
 * A non-2xx answer of the ingress: the HTTP status and the `{code, message}` body when there is one.
 *
 * @example
 * try { await client.serviceClient(greeter).greet("bob") } catch (e) {
 *   if (isIngressError(e) && e.status === 404) console.log("not deployed");
 * }
 */
export class IngressError extends Error {
  override readonly name = "IngressError";
  readonly [INGRESS_ERROR] = true;
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * True for an IngressError from any copy of the SDK.
 *
 * @example
 * if (isIngressError(e)) console.log(e.status, e.code);
 */
export function isIngressError(e: unknown): e is IngressError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[INGRESS_ERROR] === true;
}
