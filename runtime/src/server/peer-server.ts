/**
 * The peer listener (CAPSTAN_PEER_PORT, default 9072): node-to-node traffic of a cluster — calls
 * forwarded to the partition's leader, outbox records appended on it, and change notices (a node
 * joined, moved partitions or left: look now) (cluster/peer-protocol.ts). Before routing, every
 * request's body is read (at most MAX_PEER_BODY_BYTES) and its signature under the cluster key checked (security/peer-auth.ts): anything else is 401 PEER_UNAUTHORIZED, whatever
 * the path. The receiving node runs each call on its own partitions only (never forwarding again):
 * a partition it does not lead answers RUNTIME_PARTITION_UNAVAILABLE and the sender retries.
 *
 * The sender validated the request where it entered the cluster; the receiver checks it again with
 * the same limits (server/peer-arguments.ts: names, keys, headers, sizes, page sizes; a checkpoint
 * decoded like on the checkpoint listener; an appended record is one of the delivered kinds with its
 * origin; a page of SQL rows bounded by cluster/sql-rows-page.ts).
 */
import type { LedInvocationPage } from "./runtime-api";
import type { IncomingMessage } from "node:http";
import {
  decodeCheckpointRequest,
  isProtocolError,
  type Completion,
  type Target,
} from "@capstan/sdk/protocol";
import {
  isPeerMethod,
  MAX_PEER_ARGS,
  PEER_APPEND_PATH,
  PEER_CALL_PATH,
  PEER_CHANGED_PATH,
  type PeerMethod,
} from "../cluster/peer-protocol";
import type { ChangeNotice } from "../cluster/lease-coordinator";
import { MAX_NODE_ID_LENGTH } from "../cluster/membership-store";
import { decodeSqlPageRequest, type LedSqlRowsPage, type SqlPageRequest } from "../cluster/sql-rows-page";
import type { RecordInput } from "../partition/partition-processor";
import type { PeerVerifier } from "../security/peer-auth";
import { ApiError } from "./api-error";
import { startHttpServer, type ServerHandle } from "./http-server";
import { consoleLogger, parseJsonBody, readBody, sendJson, type ServerLogger } from "./http-util";
import { MAX_PEER_BODY_BYTES } from "./limits";
import { checkDeliveredRecord, checkPeerArguments } from "./peer-arguments";
import { drainRetry } from "./request-drain";
import { Router } from "./router";
import type {
  InvocationAction,
  InvocationFilter,
  InvocationLogsQuery,
  ResumeOptions,
  RuntimeApi,
  StatePatch,
  SubmitRequest,
} from "./runtime-api";

/** What the peer listener calls: the node's own runtime (never a forwarding one). */
export interface PeerTarget extends RuntimeApi {
  /** This node's part of a cluster-wide invocation list, with the partitions it covers. */
  listLedInvocations(filter: InvocationFilter): Promise<LedInvocationPage>;
  /** The request restart-as-new resubmits for a completed invocation this node holds. */
  restartRequest(invocationId: string): Promise<SubmitRequest>;
  /** A page of one SQL table's rows of a partition this node leads, for a query another node answers. */
  sqlRowsPage(request: SqlPageRequest): Promise<LedSqlRowsPage>;
  /** Appends an outbox record to a partition this node leads, as the runtime's own record. */
  appendDelivery(partition: number, record: RecordInput): Promise<void>;
  /** Another node changed the cluster: run the lease tick now (it claims nothing on the notice's word). */
  clusterChanged(notice: ChangeNotice): void;
}

export interface PeerServerOptions {
  /** The runtime; undefined while it is being built (answered 503). */
  target: () => PeerTarget | undefined;
  verifier: PeerVerifier;
  host: string;
  /** 0 = an ephemeral port, reported by the handle. */
  port: number;
  logger?: ServerLogger;
}

const AREA = "PEER";

/**
 * @example
 * const peer = await startPeerServer({ target: () => runtime, verifier: new PeerVerifier(key), host, port: 9072 });
 */
export async function startPeerServer(options: PeerServerOptions): Promise<ServerHandle> {
  const bodies = new WeakMap<IncomingMessage, unknown>();
  const target = (): PeerTarget => {
    const t = options.target();
    if (t === undefined)
      throw new ApiError(503, "RUNTIME_UNAVAILABLE", "the runtime is starting", { retryAfterSeconds: 1 });
    return t;
  };
  const body = (req: IncomingMessage): Record<string, unknown> => {
    const value = bodies.get(req);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new ApiError(400, `${AREA}_BAD_REQUEST`, "the body must be a JSON object");
    return value as Record<string, unknown>;
  };
  const router = new Router(AREA)
    .on("POST", PEER_CALL_PATH, async (ctx) => {
      const { method, args } = body(ctx.req);
      if (!isPeerMethod(method)) throw new ApiError(400, `${AREA}_BAD_REQUEST`, "unknown peer method");
      if (!Array.isArray(args) || args.length > MAX_PEER_ARGS)
        throw new ApiError(400, `${AREA}_BAD_REQUEST`, `args must be an array of at most ${MAX_PEER_ARGS}`);
      const value = await call(target(), method, checkPeerArguments(method, args), ctx.signal);
      sendJson(ctx.res, 200, value === undefined ? {} : { value });
    })
    .on("POST", PEER_APPEND_PATH, async (ctx) => {
      const given = body(ctx.req);
      const { partition, record } = checkDeliveredRecord(given.partition, given.record);
      await target().appendDelivery(partition, record);
      sendJson(ctx.res, 200, {});
    })
    .on("POST", PEER_CHANGED_PATH, async (ctx) => {
      const { from, leaving } = body(ctx.req);
      if (typeof from !== "string" || from.length === 0 || from.length > MAX_NODE_ID_LENGTH)
        throw new ApiError(400, `${AREA}_BAD_REQUEST`, "from must be a node id");
      if (typeof leaving !== "boolean")
        throw new ApiError(400, `${AREA}_BAD_REQUEST`, "leaving must be a boolean");
      target().clusterChanged({ from, leaving });
      sendJson(ctx.res, 200, {});
    });
  return startHttpServer({
    host: options.host,
    port: options.port,
    router,
    logger: options.logger ?? consoleLogger,
    // Drained once this node handed its partitions over: to the forwarding node, the partition moved.
    drainErrors: {
      refusal: () => partitionMoved("this node has left the cluster"),
      deadline: () => partitionMoved("this node left the cluster before the request finished"),
    },
    // Authenticated before routing: an unsigned request learns nothing, not even which paths exist.
    authorize: async (req, method, path) => {
      const raw = await readBody(req, MAX_PEER_BODY_BYTES, AREA);
      options.verifier.verify(req.headers, method, path, raw);
      bodies.set(req, parseJsonBody(raw, AREA));
    },
  });
}

/** Runs one forwarded call on this node's runtime; `signal` follows the forwarding node's request. */
async function call(t: PeerTarget, method: PeerMethod, a: unknown[], signal: AbortSignal): Promise<unknown> {
  const s = (i: number): string => a[i] as string;
  switch (method) {
    case "submit":
      return t.submit(a[0] as SubmitRequest);
    case "call":
      return t.call(a[0] as SubmitRequest, signal);
    case "awaitResult":
      return t.awaitResult(s(0), signal);
    case "output":
      return t.output(s(0));
    case "workflowInvocation":
      return t.workflowInvocation(s(0), s(1));
    case "idempotentInvocation":
      return t.idempotentInvocation(a[0] as Target, s(1));
    case "completeAwakeable":
      return t.completeAwakeable(s(0), a[1] as Completion);
    case "checkpoint": {
      // Checked here like on the checkpoint listener: this node leads the partition and its epoch.
      const verified = t.authenticateCheckpoint(s(0), s(1));
      let request;
      try {
        // The credential travels as the call's arguments, as it does in headers on the listener.
        request = decodeCheckpointRequest(a[2], { invocationId: s(0), attemptToken: s(1) });
      } catch (e) {
        if (isProtocolError(e)) throw new ApiError(400, e.code, e.message, { cause: e });
        throw e;
      }
      return t.checkpoint(request, verified, signal);
    }
    case "listLedInvocations":
      return t.listLedInvocations(a[0] as InvocationFilter);
    case "describeInvocation":
      return t.describeInvocation(s(0));
    case "invocationLogs":
      return t.invocationLogs(s(0), a[1] as InvocationLogsQuery);
    case "invocationAction":
      return t.invocationAction(s(0), s(1) as InvocationAction);
    case "resumeInvocation":
      return t.resumeInvocation(s(0), a[1] as ResumeOptions);
    case "restartRequest":
      return t.restartRequest(s(0));
    case "getState":
      return t.getState(s(0), s(1));
    case "patchState":
      return t.patchState(s(0), s(1), a[2] as StatePatch);
    case "sqlRowsPage":
      return t.sqlRowsPage(decodeSqlPageRequest(a[0], t.health().partitions));
  }
}

/** 503 RUNTIME_PARTITION_UNAVAILABLE: the forwarding node passes it on; its client retries there. */
function partitionMoved(why: string): ApiError {
  return new ApiError(503, "RUNTIME_PARTITION_UNAVAILABLE", `${why}: retry`, drainRetry());
}
