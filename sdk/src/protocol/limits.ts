/**
 * Size limits of the protocol. Every one is enforced by the decoders and has a test at the limit.
 * Lambda caps a synchronous request and response at 6 MB; the journal plus the eager state must fit.
 */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** A whole runtime→SDK request (journal + eager state + input). Leaves headroom under Lambda's cap. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024 - 64 * 1024;
/** A whole SDK→runtime response or checkpoint body. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024;
/** One serialized value: a handler input/output, a step result, a state value, a call parameter. */
export const MAX_VALUE_BYTES = 1024 * 1024;
/** Eager state pushed with a request; beyond it the state is sent partial and fetched lazily. */
export const MAX_EAGER_STATE_BYTES = 1024 * 1024;
/** Entries in one invocation's journal. */
export const MAX_JOURNAL_ENTRIES = 10_000;
/** Service, handler, step, state-key and promise names. */
export const MAX_NAME_LENGTH = 256;
/** Object keys and workflow ids (UTF-16 code units). */
export const MAX_KEY_LENGTH = 1024;
/** Idempotency keys on ingress and on calls. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
/** Headers forwarded with an invocation: count and total size. */
export const MAX_HEADERS = 64;
export const MAX_HEADERS_BYTES = 16 * 1024;
/** The longest a checkpoint long-poll may hold the request open waiting for completions. */
export const MAX_CHECKPOINT_WAIT_MS = 30_000;
/** Terminal failure messages are truncated to this length when recorded. */
export const MAX_FAILURE_MESSAGE_LENGTH = 16 * 1024;
