/** HTTP paths and header names shared by the runtime and the SDK adapters. */

/** A container deployment (the SDK's HTTP adapter) answers these under its base URL. */
export const DEPLOYMENT_DISCOVER_PATH = "/discover";
export const DEPLOYMENT_INVOKE_PATH = "/invoke";

/** Served by the runtime; the SDK posts CheckpointRequest here. */
export const CHECKPOINT_PATH = "/internal/v1/checkpoint";
/** 409 from the checkpoint endpoint: the attempt was superseded; the SDK must stop. */
export const STALE_ATTEMPT_CODE = "INVOKE_STALE_ATTEMPT";

export const HEADER_IDEMPOTENCY_KEY = "idempotency-key";
export const HEADER_INVOCATION_ID = "x-restate-id";
export const CONTENT_TYPE_JSON = "application/json";
