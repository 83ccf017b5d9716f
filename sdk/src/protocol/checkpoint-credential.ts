/**
 * Where a checkpoint's attempt credential travels: in two request headers, not in the JSON body, so
 * the runtime checks it before it reads or parses a byte of the body (a request it did not authorize
 * costs no JSON parse). The body carries the rest of the CheckpointRequest. A body that still holds
 * `invocationId` or `attemptToken` — the form before the headers — is refused by the decoder, never
 * read as a fallback.
 */
import type { CheckpointRequest } from "./messages";

/** The invocation the credential was issued for. */
export const HEADER_CHECKPOINT_INVOCATION_ID = "x-capstan-invocation-id";
/** The attempt credential the invoke request carried (opaque to the SDK, which echoes it). */
export const HEADER_CHECKPOINT_ATTEMPT_TOKEN = "x-capstan-attempt-token";

export interface CheckpointCredential {
  invocationId: string;
  attemptToken: string;
}

/** The JSON body of a checkpoint: the request without its credential. */
export type CheckpointBody = Omit<CheckpointRequest, "invocationId" | "attemptToken">;

/** The fields only the headers may carry; in a body they are the earlier protocol form. */
export const CREDENTIAL_BODY_FIELDS = ["invocationId", "attemptToken"] as const;

/**
 * A CheckpointRequest as it goes on the wire.
 *
 * @example
 * const { headers, body } = encodeCheckpoint(request);
 * await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
 */
export function encodeCheckpoint(request: CheckpointRequest): {
  headers: Record<string, string>;
  body: string;
} {
  const { invocationId, attemptToken, ...body } = request;
  return {
    headers: {
      [HEADER_CHECKPOINT_INVOCATION_ID]: invocationId,
      [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: attemptToken,
    },
    body: JSON.stringify(body satisfies CheckpointBody),
  };
}

/**
 * The credential from a request's headers (node:http's lower-cased map), or undefined when either
 * header is missing or repeated.
 *
 * @example
 * const credential = checkpointCredentialFrom(req.headers); // before the body is read
 */
export function checkpointCredentialFrom(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): CheckpointCredential | undefined {
  const invocationId = headers[HEADER_CHECKPOINT_INVOCATION_ID];
  const attemptToken = headers[HEADER_CHECKPOINT_ATTEMPT_TOKEN];
  if (typeof invocationId !== "string" || typeof attemptToken !== "string") return undefined;
  return { invocationId, attemptToken };
}
