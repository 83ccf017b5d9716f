/**
 * The admin half of the RuntimeApi: deployments, invocations, state, SQL, health and metrics. Reads
 * go through each partition's view, writes are records appended through the partition router.
 */
import { PROTOCOL_VERSION, isProtocolError } from "@capstan/sdk/protocol";
import type { Clock } from "../core/clock";
import type { Invocation, InvocationStatus } from "../core/state";
import { resumeDeployment } from "../invocation/resume-deployment";
import { partitionOfTarget } from "../core/partitioning";
import { queryInputs, type PartitionsElsewhere } from "../invocation/query-views";
import type { LedSqlRowsPage, SqlPageRequest } from "../cluster/sql-rows-page";
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "../partition/partition-errors";
import { PEER_SQL_PAGE_BYTES } from "../server/limits";
import type { DeploymentEndpoint, Invoker } from "../invoker/invoker";
import type { CommitStats } from "../partition/local-partition-router";
import { type DeploymentRegistry, toDeploymentInfo } from "../registry/deployment-registry";
import { RuntimeError } from "../runtime-error";
import type { MetricGauges } from "../metrics/metrics";
import type { Telemetry } from "../telemetry/telemetry";
import type {
  DeploymentInfo,
  HealthInfo,
  InvocationAction,
  InvocationDetail,
  InvocationFilter,
  InvocationLogs,
  InvocationLogsQuery,
  InvocationSummary,
  LedInvocationPage,
  ResumeOptions,
  ResumeResult,
  ServiceInfo,
  StatePatch,
} from "../server/runtime-api";
import { withoutSensitive } from "../server/sensitive-headers";
import { invocationLogs } from "./invocation-logs";
import { mergeInvocationPages } from "./invocation-list-order";
import { DEFAULT_QUERY_LIMITS } from "../server/sql-query";
import { runQueryInProcess } from "../server/sql-query-process";
import type { PartitionAccess } from "./partition-access";

/** Discovery of a new deployment must answer within this. */
export const DISCOVERY_TIMEOUT_MS = 30_000;

/** What the metrics endpoint reads besides the partitions' views: the node's own counters. */
export interface NodeStats {
  commit(): CommitStats;
  queueDepths(): number[];
  inFlightAttempts(): number;
  /** Timers the timer service holds in memory (its windows), not the partitions' timers. */
  timersInMemory(): number;
}

export class AdminApi {
  constructor(
    private readonly access: PartitionAccess,
    private readonly registry: DeploymentRegistry,
    private readonly invoker: Invoker,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
    private readonly stats: NodeStats,
    private readonly version: string,
  ) {
    // The OTLP metrics export (when configured) reads the same gauges as GET /metrics.
    telemetry.readGaugesFrom(() => this.gauges());
  }

  async registerDeployment(
    endpoint: DeploymentEndpoint,
    options: { force: boolean },
  ): Promise<DeploymentInfo> {
    const signal = AbortSignal.timeout(DISCOVERY_TIMEOUT_MS);
    let discovery;
    try {
      discovery = await this.invoker.discover(
        endpoint,
        { type: "discover", protocolVersion: PROTOCOL_VERSION },
        signal,
      );
    } catch (e) {
      const reason = isProtocolError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
      throw new RuntimeError(
        "ADMIN_DISCOVERY_FAILED",
        `discovery of ${describeEndpoint(endpoint)} failed: ${reason}`,
        { cause: e },
      );
    }
    const d = await this.registry.register(endpoint, discovery, this.clock.nowMs(), options.force);
    return toDeploymentInfo(d);
  }

  async listDeployments(): Promise<DeploymentInfo[]> {
    return this.registry.list().map(toDeploymentInfo);
  }

  async removeDeployment(id: string): Promise<void> {
    await this.registry.remove(id);
  }

  async listServices(): Promise<ServiceInfo[]> {
    return this.registry.listServices();
  }

  /**
   * Each partition's newest `limit` matching invocations after the filter's position, merged in the
   * list order (invocation-list-order.ts): the newest `limit` overall after that position.
   */
  async listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]> {
    return (await this.listLedInvocations(filter)).invocations;
  }

  /**
   * The list over the partitions this node answers for, and which those were: a partition counts only
   * when it was here (led, or stopped here) both before and after its read, so a partition moving
   * during the read is reported missing rather than read empty (a cluster's list then refuses).
   */
  async listLedInvocations(filter: InvocationFilter): Promise<LedInvocationPage> {
    const out: InvocationSummary[] = [];
    const partitions: number[] = [];
    const router = this.access.router;
    for (let p = 0; p < router.partitions; p++) {
      const before = router.health(p);
      if (before.state === "elsewhere") continue;
      const rows = await router.view(p).listInvocations(filter);
      const after = router.health(p);
      if (
        after.state !== before.state ||
        (after.state === "leading" && before.state === "leading" && after.epoch !== before.epoch)
      )
        continue;
      for (const s of rows) out.push(s);
      partitions.push(p);
    }
    return { invocations: mergeInvocationPages([out], filter.limit), partitions };
  }

  async describeInvocation(invocationId: string): Promise<InvocationDetail | undefined> {
    let located;
    try {
      located = this.access.locate(invocationId);
    } catch {
      return undefined;
    }
    const detail = await this.access.view(located.p).describe(located.id);
    // The ingress no longer stores them; invocations recorded before it did may still hold some.
    return detail === undefined ? undefined : { ...detail, headers: withoutSensitive(detail.headers) };
  }

  async invocationAction(invocationId: string, action: InvocationAction): Promise<void> {
    const { p, inv } = await this.access.lookup(invocationId);
    const effects = await this.access.append(p, { kind: action, invocationId: inv.id });
    const rejected = effects.find((e) => e.kind === "request-rejected");
    if (rejected) throw new RuntimeError(rejected.code, rejected.message);
    if (action === "pause") {
      const paused = await this.access.view(p).invocation(inv.id);
      if (paused?.status === "paused") this.telemetry.paused(paused);
    }
  }

  /**
   * A paused or backing-off invocation's next attempt now; with `deployment`, on that deployment
   * ("latest": its service's current one), checked before the `resume` record is appended.
   */
  async resumeInvocation(invocationId: string, options: ResumeOptions): Promise<ResumeResult> {
    const { p, inv } = await this.access.lookup(invocationId);
    const deploymentId =
      options.deployment === undefined ? undefined : resumeDeployment(this.registry, inv, options.deployment);
    const effects = await this.access.append(p, {
      kind: "resume",
      invocationId: inv.id,
      ...(deploymentId !== undefined && { deploymentId }),
    });
    const rejected = effects.find((e) => e.kind === "request-rejected");
    if (rejected) throw new RuntimeError(rejected.code, rejected.message);
    return { invocationId, deploymentId: deploymentId ?? inv.deploymentId };
  }

  /** The invocation as its partition holds it (INVOCATION_NOT_FOUND if none). */
  async invocationLogs(invocationId: string, query: InvocationLogsQuery): Promise<InvocationLogs> {
    const { inv } = await this.access.lookup(invocationId);
    const endpoint = this.registry.get(inv.deploymentId)?.endpoint;
    return invocationLogs(inv.id, endpoint, this.telemetry.parts.handlerLogs, query);
  }

  async invocation(invocationId: string): Promise<Invocation> {
    return (await this.access.lookup(invocationId)).inv;
  }

  async getState(service: string, key: string): Promise<Record<string, string>> {
    this.assertKeyedService(service);
    const p = partitionOfTarget({ service, handler: "", key }, undefined, this.access.router.partitions)!;
    return Object.fromEntries(await this.access.view(p).objectState(service, key));
  }

  async patchState(service: string, key: string, patch: StatePatch): Promise<void> {
    this.assertKeyedService(service);
    const p = partitionOfTarget({ service, handler: "", key }, undefined, this.access.router.partitions)!;
    await this.access.append(p, { kind: "patch-state", service, key, ...patch });
  }

  /**
   * The QueryResult as JSON text (built and bounded in the query's own process): the partitions not
   * `elsewhere` read here (from their state files in place, or streamed), then `elsewhere`'s rows.
   */
  async query(sql: string, elsewhere?: PartitionsElsewhere): Promise<string> {
    const router = this.access.router;
    const here = Array.from({ length: router.partitions }, (_, p) => p).filter(
      (p) => elsewhere?.partitions.has(p) !== true,
    );
    const { files, source, confirm } = queryInputs(router, here, elsewhere);
    let json: string;
    try {
      json = await runQueryInProcess(sql, source, DEFAULT_QUERY_LIMITS, { files });
    } catch (e) {
      confirm(e);
      throw e;
    }
    confirm();
    return json;
  }

  /** One page of a table's rows of partition `request.partition`, which this node must lead throughout. */
  async sqlRowsPage(request: SqlPageRequest): Promise<LedSqlRowsPage> {
    const { partition, table, after, maxRows } = request;
    const router = this.access.router;
    const notLed = (state: string): RuntimeError =>
      new RuntimeError(
        "RUNTIME_PARTITION_UNAVAILABLE",
        `partition ${partition} is not led by this node (${state}): it is moving`,
        { retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS },
      );
    const before = router.health(partition);
    if (before.state !== "leading") throw notLed(before.state);
    const page = await router.view(partition).sqlRowsPage(table, after, maxRows, PEER_SQL_PAGE_BYTES);
    const now = router.health(partition);
    if (now.state !== "leading" || now.epoch !== before.epoch) throw notLed(now.state);
    return { ...page, epoch: now.epoch };
  }

  /** `status`: the runtime's lifecycle; a stopped partition turns "ok" into "failed" with the reason. */
  health(status: HealthInfo["status"]): HealthInfo {
    const partitions = this.access.router.partitions;
    const stopped: Array<{ p: number; reason: string }> = [];
    for (let p = 0; p < partitions; p++) {
      const h = this.access.router.health(p);
      if (h.state === "stopped") stopped.push({ p, reason: h.reason });
    }
    if (stopped.length > 0 && status === "ok") {
      return {
        status: "failed",
        partitions,
        version: this.version,
        reason: `partitions ${stopped.map((s) => s.p).join(", ")} stopped: ${stopped[0]!.reason}`,
      };
    }
    return { status, partitions, version: this.version };
  }

  /** Prometheus text, every series labelled with `nodeId` (this node's id). */
  async metrics(nodeId: string): Promise<string> {
    return this.telemetry.metrics.render(await this.gauges(), nodeId);
  }

  /**
   * What the metrics read from the partitions and the node at a scrape or an OTLP push. In a cluster
   * only the partitions this node holds count (not those led elsewhere), so summing the gauges of all
   * nodes counts each partition once.
   */
  private async gauges(): Promise<MetricGauges> {
    const byStatus = new Map<InvocationStatus, number>();
    let timers = 0;
    const here = (p: number): boolean => this.access.router.health(p).state !== "elsewhere";
    for (let p = 0; p < this.access.router.partitions; p++) {
      if (!here(p)) continue;
      const view = this.access.router.view(p);
      for (const [status, n] of await view.countByStatus())
        byStatus.set(status, (byStatus.get(status) ?? 0) + n);
      timers += await view.timerCount();
    }
    return {
      invocationsByStatus: byStatus,
      commit: this.stats.commit(),
      queueDepths: this.stats
        .queueDepths()
        .flatMap((depth, p): Array<[number, number]> => (here(p) ? [[p, depth]] : [])),
      inFlightAttempts: this.stats.inFlightAttempts(),
      timers,
      timersInMemory: this.stats.timersInMemory(),
    };
  }

  private assertKeyedService(service: string): void {
    const s = this.registry.listServices().find((x) => x.name === service);
    if (!s) throw new RuntimeError("ADMIN_SERVICE_NOT_FOUND", `service ${service} is not registered`);
    if (s.kind === "service")
      throw new RuntimeError("ADMIN_SERVICE_HAS_NO_STATE", `service ${service} is stateless`);
  }
}

function describeEndpoint(e: DeploymentEndpoint): string {
  return e.kind === "lambda" ? `Lambda ${e.arn}` : e.url;
}
