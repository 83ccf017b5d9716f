/** The HTTP layer: ingress (:8080), admin + checkpoint (:9070), and the read-only SQL behind /query. */
export { startIngressServer, NOT_READY_STATUS, HEADER_ERROR_SOURCE } from "./ingress-server";
export type { IngressServerOptions } from "./ingress-server";
export { startAdminServer, METRICS_CONTENT_TYPE } from "./admin-server";
export type { AdminServerOptions } from "./admin-server";
export type { ServerHandle } from "./http-server";
export type { ServerLogger } from "./http-util";
export { parseDelayMs } from "./delay";
export { runReadOnlyQuery, DEFAULT_QUERY_LIMITS, referencedTables } from "./sql-query";
export type { QueryLimits } from "./sql-query";
export {
  INVOCATIONS_COLUMNS,
  JOURNAL_COLUMNS,
  STATE_COLUMNS,
  SQL_TABLES,
  invocationRow,
  journalRows,
  stateRows,
} from "./sql-schema";
export type { Row, SqlTable, SqlValue, SqlViews, InvocationRow, JournalRow, StateRow } from "./sql-schema";
export {
  MAX_INGRESS_BODY_BYTES,
  MAX_ADMIN_BODY_BYTES,
  MAX_CHECKPOINT_BODY_BYTES,
  MAX_DISCARDED_BODY_BYTES,
  MAX_DELAY_MS,
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  MAX_QUERY_ROWS,
  MAX_QUERY_MS,
  MAX_QUERY_LENGTH,
  MAX_QUERY_RESULT_BYTES,
  MAX_QUERY_MEMORY_BYTES,
  MAX_JSON_DEPTH,
  MAX_HTTP_HEADER_COUNT,
  MAX_STATE_PATCH_KEYS,
  MAX_DEPLOYMENT_ENDPOINT_LENGTH,
} from "./limits";
export { ApiError, isApiError } from "./api-error";
export type {
  RuntimeApi,
  SubmitRequest,
  SubmitResult,
  OutputState,
  DeploymentInfo,
  ServiceInfo,
  InvocationSummary,
  InvocationDetail,
  InvocationFilter,
  StatePatch,
  QueryResult,
  InvocationAction,
  HealthInfo,
} from "./runtime-api";
