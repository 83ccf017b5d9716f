/**
 * The wire contract between the Capstan runtime and the SDK. The only SDK module the runtime imports.
 * docs/protocol.md is the specification; this folder is its code.
 */
export { PROTOCOL_VERSION, MIN_PROTOCOL_VERSION } from "./version";
export type { ProtocolVersion } from "./version";
export {
  LAMBDA_PAYLOAD_LIMIT_BYTES,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_VALUE_BYTES,
  MAX_EAGER_STATE_BYTES,
  MAX_JOURNAL_ENTRIES,
  MAX_NAME_LENGTH,
  MAX_KEY_LENGTH,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_HEADERS,
  MAX_HEADERS_BYTES,
  MAX_CHECKPOINT_WAIT_MS,
  MAX_FAILURE_MESSAGE_LENGTH,
} from "./limits";
export { ProtocolError, isProtocolError } from "./errors";
export {
  HEADER_CHECKPOINT_INVOCATION_ID,
  HEADER_CHECKPOINT_ATTEMPT_TOKEN,
  encodeCheckpoint,
  checkpointCredentialFrom,
} from "./checkpoint-credential";
export type { CheckpointBody, CheckpointCredential } from "./checkpoint-credential";
export type { ProtocolErrorCode } from "./errors";
export {
  formatInvocationId,
  parseInvocationId,
  isInvocationId,
  partitionOfInvocationId,
  formatAwakeableId,
  parseAwakeableId,
} from "./ids";
export type { InvocationId } from "./ids";
export { MAX_PARTITIONS, childInvocationId, fnv1a32, partitionOfTarget } from "./invocation-ids";
export {
  COMPLETABLE_KINDS,
  RUNTIME_COMPLETED_KINDS,
  isCompletable,
  entryLabel,
  assertNever,
} from "./journal";
export type {
  Payload,
  Failure,
  Completion,
  Target,
  JournalEntry,
  EntryKind,
  InputEntry,
  OutputEntry,
  RunEntry,
  SleepEntry,
  CallEntry,
  SendEntry,
  GetStateEntry,
  SetStateEntry,
  ClearStateEntry,
  ClearAllStateEntry,
  GetStateKeysEntry,
  AwakeableEntry,
  CompleteAwakeableEntry,
  PromiseGetEntry,
  PromisePeekEntry,
  PromiseCompleteEntry,
  AttachEntry,
  CancelInvocationEntry,
} from "./journal";
export type {
  DiscoverRequest,
  DiscoveryResponse,
  ServiceDescription,
  HandlerDescription,
  ServiceKind,
  HandlerKind,
  HandlerOptions,
  RetryPolicy,
  EagerState,
  FailedEntryRef,
  InvokeRequest,
  InvokeResponse,
  Outcome,
  CheckpointRequest,
  CheckpointAck,
  EntryCompletion,
  ErrorBody,
  RuntimeToSdk,
  SdkToRuntime,
} from "./messages";
export {
  decodeRuntimeToSdk,
  decodeInvokeRequest,
  decodeInvokeResponse,
  decodeCheckpointRequest,
  decodeCheckpointAck,
  decodeDiscoveryResponse,
  decodeEntry,
  decodeCompletion,
  decodeFailure,
  decodeTarget,
  parseJson,
} from "./codec";
export { parseTraceparent, formatTraceparent, MAX_TRACEPARENT_LENGTH } from "./trace-context";
export type { SpanContextIds } from "./trace-context";
export {
  IDENTITY_FIELD,
  IDENTITY_PUBLIC_KEY_PREFIX,
  IDENTITY_SKEW_SECONDS,
  MAX_IDENTITY_LENGTH,
  identityAudience,
  identityClaims,
  messageDigest,
  formatIdentityPublicKey,
  parseIdentityPublicKey,
  signIdentity,
  verifyIdentity,
} from "./identity";
export type { IdentityClaims, IdentityPublicKey } from "./identity";
export {
  DEPLOYMENT_DISCOVER_PATH,
  DEPLOYMENT_INVOKE_PATH,
  CHECKPOINT_PATH,
  STALE_ATTEMPT_CODE,
  HEADER_IDEMPOTENCY_KEY,
  HEADER_INVOCATION_ID,
  CONTENT_TYPE_JSON,
} from "./paths";
