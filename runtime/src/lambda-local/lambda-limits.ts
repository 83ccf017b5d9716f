/**
 * Lambda's documented quotas, mirrored locally so a handler that works under `npm start` does not
 * fail on AWS for a reason the local endpoint could have shown. Each has a test at the limit.
 */

/** Synchronous (RequestResponse) request body cap: Lambda answers 413 RequestEntityTooLargeException above it. */
export const MAX_SYNC_REQUEST_PAYLOAD_BYTES = 6_291_456;

/** Asynchronous (Event) request body cap; raised from 256 KB to 1 MB by AWS in October 2025. */
export const MAX_ASYNC_REQUEST_PAYLOAD_BYTES = 1_048_576;

/** Synchronous response cap: above it the invocation fails with Function.ResponseSizeTooLarge. */
export const MAX_SYNC_RESPONSE_PAYLOAD_BYTES = 6_291_456;

/**
 * A request body is drained (and discarded) up to this size so the client can read the 413 instead of
 * seeing a reset connection; beyond it the socket is closed.
 */
export const MAX_DRAINED_REQUEST_BYTES = 64 * 1024 * 1024;

/** Function names: letters, digits, hyphens and underscores, 1–64 characters (Lambda's rule). */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const DEFAULT_TIMEOUT_SECONDS = 30;
/** Lambda's maximum: 15 minutes. */
export const MAX_TIMEOUT_SECONDS = 900;

export const DEFAULT_MEMORY_MB = 256;
export const MIN_MEMORY_MB = 128;
export const MAX_MEMORY_MB = 10_240;

/**
 * Execution environments (worker threads) per function version, like reserved concurrency. A handler
 * waiting inline on the checkpoint channel holds its environment, as on Lambda, so a fan-out needs
 * room for parents and children at once.
 */
export const DEFAULT_MAX_WORKERS_PER_FUNCTION = 64;
/** Requests waiting for a free environment; one more is throttled with 429 TooManyRequestsException. */
export const DEFAULT_MAX_QUEUED_PER_FUNCTION = 1_000;
/** A queued request that waits longer than this is throttled rather than held forever. */
export const DEFAULT_MAX_QUEUE_WAIT_MS = 30_000;
/** Warm environments idle longer than this are reclaimed (Lambda reclaims idle sandboxes too). */
export const DEFAULT_WORKER_IDLE_MS = 5 * 60_000;
/** Lambda's init phase limit: module loading that takes longer fails the invocation. */
export const INIT_TIMEOUT_MS = 10_000;

/**
 * Lambda Managed Instances (a function whose `function.json` sets `perExecutionEnvironmentMaxConcurrency`):
 * the largest number of invocations one execution environment may be given at once. AWS's Node.js
 * default is 64 per vCPU; locally one environment serves the function, so this bounds the setting.
 */
export const MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY = 1_024;
/** Runtime worker threads of one managed-instances environment (`AWS_LAMBDA_NODEJS_WORKER_COUNT`). */
export const MAX_NODEJS_WORKER_COUNT = 64;

/**
 * Nice value of each execution environment's thread: below the runtime's (and the endpoint's own
 * thread, which relays requests), never so low that handlers starve. See ADR 0004.
 */
export const HANDLER_THREAD_NICE = 10;

/** Local endpoints have no real account or region; ARNs use these. */
export const LOCAL_ACCOUNT_ID = "000000000000";
export const LOCAL_REGION = "us-east-1";
