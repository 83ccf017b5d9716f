/**
 * Limits of the HTTP layer. Each one is enforced with a stable error code and has a test at the limit.
 */
import { MAX_RESPONSE_BYTES, MAX_VALUE_BYTES } from "@capstan/sdk/protocol";

/** An ingress request body is one handler input (or awakeable value): one serialized value. */
export const MAX_INGRESS_BODY_BYTES = MAX_VALUE_BYTES;
/**
 * Admin bodies: deployment registration, state patches, queries. Twice a value, so a state patch can
 * always carry at least one value of the maximum size plus its JSON framing.
 */
export const MAX_ADMIN_BODY_BYTES = 2 * MAX_VALUE_BYTES;
/** A checkpoint carries new journal entries: bounded like a whole SDK response. */
export const MAX_CHECKPOINT_BODY_BYTES = MAX_RESPONSE_BYTES;
/**
 * Past a body limit the server keeps reading (and discarding) this many extra bytes so the client
 * sees the 413 instead of a reset connection; beyond that the connection is dropped.
 */
export const MAX_DISCARDED_BODY_BYTES = 1024 * 1024;

/** Longest `?delay=` of a one-way send. */
export const MAX_DELAY_MS = 365 * 24 * 60 * 60 * 1000;

/** `GET /invocations?limit=`: default and maximum. */
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

/** `GET /invocations/:id/logs?limit=`: lines per page, default and maximum. */
export const DEFAULT_LOG_PAGE_LINES = 500;
export const MAX_LOG_PAGE_LINES = 2_000;

/** Read-only SQL: rows returned (beyond: `truncated: true`), wall time, and text length. */
export const MAX_QUERY_ROWS = 1000;
export const MAX_QUERY_MS = 5_000;
export const MAX_QUERY_LENGTH = 64 * 1024;
/**
 * The JSON text of one query's result (400 ADMIN_QUERY_RESULT_TOO_LARGE beyond). A 540 MB result
 * once stalled the event loop while it was serialized; now the query's process builds the text and
 * stops at this bound, and the runtime forwards it as it is.
 */
export const MAX_QUERY_RESULT_BYTES = 8 * 1024 * 1024;
/** SQLite's heap in a query's process: its tables plus the statement's work (400 ADMIN_QUERY_TOO_LARGE). */
export const MAX_QUERY_MEMORY_BYTES = 512 * 1024 * 1024;
/** Rows per message while the runtime streams the tables to a query's process, a turn between each. */
export const QUERY_ROWS_PER_CHUNK = 500;
/**
 * Request line and headers node:http parses before a route sees them (its default is 16 KiB, the same
 * as MAX_HEADERS_BYTES, so the ingress's own 431 with its code could never answer). Beyond: 431
 * `{area}_HEADERS_TOO_LARGE` from the parser.
 */
export const MAX_HTTP_HEADER_BYTES = 64 * 1024;
/**
 * Header lines in one request. node:http silently drops the lines past its `maxHeadersCount` (2,000 by
 * default), which could drop `Host` or a credential and let the rest through: the server parses one
 * more and refuses the request (431 `{area}_HEADERS_TOO_LARGE`) when that one is there.
 */
export const MAX_HTTP_HEADER_COUNT = 2000;

/** Queries running at once, each in its own process (sql-query-process.ts); more are refused (429). */
export const MAX_CONCURRENT_QUERIES = 2;

/**
 * Nesting of JSON the runtime parses from outside and then walks (admin bodies, state values it shows).
 * Deep enough for any document a person writes; far below the ~5,000 levels where JSON.stringify
 * overflows the stack. Beyond: 400 `{area}_JSON_TOO_DEEP`.
 */
export const MAX_JSON_DEPTH = 128;

/** Keys set or cleared by one state patch. */
export const MAX_STATE_PATCH_KEYS = 1000;
/** A deployment's URL or Lambda ARN. */
export const MAX_DEPLOYMENT_ENDPOINT_LENGTH = 2048;

/**
 * A node-to-node request (peer listener): a forwarded checkpoint is the largest thing one carries,
 * plus a value's worth of framing (invocation id, credential, JSON envelope).
 */
export const MAX_PEER_BODY_BYTES = MAX_CHECKPOINT_BODY_BYTES + MAX_VALUE_BYTES;
/** A peer's answer read by the forwarding node (a described invocation with its journal is the largest). */
export const MAX_PEER_RESPONSE_BYTES = 64 * 1024 * 1024;
/** A forwarded call other than a long-poll (those follow their caller) is given up after this. */
export const PEER_REQUEST_TIMEOUT_MS = 30_000;
/**
 * Rows one peer answers per page of one table of one partition, for a query answered by another node
 * of the cluster (`sqlRowsPage`; 400 PEER_BAD_REQUEST beyond). The answering node asks for
 * QUERY_ROWS_PER_CHUNK, the chunk it streams to the query's process.
 */
export const MAX_PEER_SQL_PAGE_ROWS = 1_000;
/**
 * About how much row JSON one such page carries; a page holds at least one row whatever its size (a
 * journal row's value is at most MAX_VALUE_BYTES, a few times that as escaped JSON), so a page stays
 * far below MAX_PEER_RESPONSE_BYTES.
 */
export const PEER_SQL_PAGE_BYTES = 4 * 1024 * 1024;
/** The longest text in a page's cursor: an invocation id, an object's `service/key` or a state key. */
export const MAX_SQL_CURSOR_LENGTH = 4 * 1024;
