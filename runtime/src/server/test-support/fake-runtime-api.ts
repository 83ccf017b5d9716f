/**
 * An in-memory RuntimeApi for the HTTP layer's unit tests: records every call, completes invocations
 * when the test says so (or at once through `handlers`). Not a runtime: no log, no state machine.
 */
import {
  formatInvocationId,
  type CheckpointAck,
  type CheckpointRequest,
  type Completion,
  type Payload,
  type Target,
} from "@capstan/sdk/protocol";
import type { DeploymentEndpoint } from "../../invoker/invoker";
import { compareListOrder } from "../../api/invocation-list-order";
import { RuntimeError } from "../../runtime-error";
import type { VerifiedAttempt } from "../../security/checkpoint-authentication";
import { ReadinessGates, type ReadinessInfo } from "../../readiness";
import type {
  ClusterInfo,
  DeploymentInfo,
  HealthInfo,
  InvocationAction,
  InvocationDetail,
  InvocationFilter,
  InvocationLogs,
  InvocationLogsQuery,
  InvocationSummary,
  OutputState,
  QueryResult,
  ResumeOptions,
  ResumeResult,
  RuntimeApi,
  ServiceInfo,
  StatePatch,
  SubmitRequest,
  SubmitResult,
  CallResult,
} from "../runtime-api";
import { submitThenAwait } from "../runtime-api";

/** The one attempt credential the fake accepts. */
export const FAKE_ATTEMPT_TOKEN = "fake-attempt-credential";

interface Waiter {
  resolve(c: Completion): void;
  reject(e: unknown): void;
}

export class FakeRuntimeApi implements RuntimeApi {
  readonly submits: SubmitRequest[] = [];
  readonly awaited: Array<{ invocationId: string; signal: AbortSignal }> = [];
  readonly awakeables: Array<{ id: string; completion: Completion }> = [];
  readonly checkpoints: CheckpointRequest[] = [];
  readonly actions: Array<{ invocationId: string; action: InvocationAction }> = [];
  readonly resumes: Array<{ invocationId: string; options: ResumeOptions }> = [];
  readonly filters: InvocationFilter[] = [];
  readonly patches: Array<{ service: string; key: string; patch: StatePatch }> = [];
  readonly queries: string[] = [];
  readonly registrations: Array<{ endpoint: DeploymentEndpoint; force: boolean }> = [];
  readonly removed: string[] = [];

  services: ServiceInfo[] = [
    {
      name: "Greeter",
      kind: "service",
      deploymentId: "dp_1",
      handlers: [{ name: "greet", kind: "stateless" }],
    },
    { name: "Counter", kind: "object", deploymentId: "dp_1", handlers: [{ name: "add", kind: "exclusive" }] },
    { name: "Signup", kind: "workflow", deploymentId: "dp_1", handlers: [{ name: "run", kind: "workflow" }] },
  ];
  deployments: DeploymentInfo[] = [];
  invocations: InvocationDetail[] = [];
  state = new Map<string, Record<string, Payload>>();
  /** The clock delayed sends are scheduled by. */
  nowMs = Date.UTC(2030, 0, 1);
  private readonly scheduledAtMs = new Map<string, number>();
  health_: HealthInfo = { status: "ok", partitions: 4, version: "0.1.0" };
  readonly readinessGates = new ReadinessGates();
  /** `service/handler` → the result, completing the invocation as soon as it is submitted. */
  handlers = new Map<string, (input: Payload) => Completion>();
  /** Thrown by the next call of any method (then cleared). */
  failNext: Error | undefined = undefined;
  checkpointAck: CheckpointAck = {
    type: "checkpoint-ack",
    protocolVersion: 1,
    journalLength: 1,
    completions: [],
  };
  queryResult: QueryResult = { columns: ["n"], rows: [[1]], truncated: false };

  private readonly results = new Map<string, Completion>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly idempotency = new Map<string, string>();
  private readonly workflows = new Map<string, string>();
  private readonly onAwait: Array<() => void> = [];
  private seq = 0;

  /** Resolves once `awaitResult` has been called `count` times in total. */
  awaitCalled(count = 1): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.awaited.length >= count) resolve();
        else this.onAwait.push(check);
      };
      check();
    });
  }

  complete(invocationId: string, result: Completion): void {
    this.results.set(invocationId, result);
    for (const w of this.waiters.get(invocationId) ?? []) w.resolve(result);
    this.waiters.delete(invocationId);
  }

  private maybeFail(): void {
    if (this.failNext !== undefined) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
  }

  private newId(): string {
    this.seq += 1;
    return formatInvocationId(1, `fake${String(this.seq).padStart(8, "0")}`);
  }

  call(request: SubmitRequest, signal: AbortSignal): Promise<CallResult> {
    return submitThenAwait(this, request, signal);
  }

  async submit(request: SubmitRequest): Promise<SubmitResult> {
    this.maybeFail();
    this.submits.push(request);
    const { target } = request;
    const service = this.services.find((s) => s.name === target.service);
    if (service === undefined)
      throw new RuntimeError("INGRESS_SERVICE_NOT_FOUND", `no service ${target.service}`);
    if (service.kind !== "service" && target.key === undefined) {
      throw new RuntimeError("INGRESS_KEY_REQUIRED", `${target.service} needs a key`);
    }
    const dedupKey =
      service.kind === "workflow" && target.handler === "run"
        ? `wf/${target.service}/${target.key}`
        : request.idempotencyKey !== undefined
          ? `idem/${target.service}/${target.key ?? ""}/${target.handler}/${request.idempotencyKey}`
          : undefined;
    const previous = dedupKey === undefined ? undefined : this.idempotency.get(dedupKey);
    if (previous !== undefined) {
      const scheduledAtMs = this.scheduledAtMs.get(previous);
      return {
        invocationId: previous,
        existing: true,
        ...(scheduledAtMs !== undefined && { scheduledAtMs }),
      };
    }
    const invocationId = this.newId();
    if (request.delayMs !== undefined) this.scheduledAtMs.set(invocationId, this.nowMs + request.delayMs);
    if (dedupKey !== undefined) this.idempotency.set(dedupKey, invocationId);
    if (service.kind === "workflow" && target.handler === "run") {
      this.workflows.set(`${target.service}/${target.key}`, invocationId);
    }
    const handler = this.handlers.get(`${target.service}/${target.handler}`);
    if (handler !== undefined) this.complete(invocationId, handler(request.input));
    const scheduledAtMs = this.scheduledAtMs.get(invocationId);
    return { invocationId, existing: false, ...(scheduledAtMs !== undefined && { scheduledAtMs }) };
  }

  awaitResult(invocationId: string, signal: AbortSignal): Promise<Completion> {
    this.maybeFail();
    this.awaited.push({ invocationId, signal });
    for (const f of this.onAwait.splice(0)) f();
    const ready = this.results.get(invocationId);
    if (ready !== undefined) return Promise.resolve(ready);
    if (!this.knows(invocationId)) {
      return Promise.reject(new RuntimeError("INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`));
    }
    return new Promise<Completion>((resolve, reject) => {
      const list = this.waiters.get(invocationId) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(invocationId, list);
      signal.addEventListener("abort", () => reject(new Error("aborted", { cause: signal.reason })), {
        once: true,
      });
    });
  }

  private knows(invocationId: string): boolean {
    return Number(invocationId.slice("inv_1_fake".length)) <= this.seq;
  }

  async output(invocationId: string): Promise<OutputState> {
    this.maybeFail();
    const result = this.results.get(invocationId);
    if (result !== undefined) return { ready: true, result };
    if (!this.knows(invocationId))
      throw new RuntimeError("INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`);
    return { ready: false };
  }

  async workflowInvocation(service: string, workflowId: string): Promise<string | undefined> {
    this.maybeFail();
    return this.workflows.get(`${service}/${workflowId}`);
  }

  async idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined> {
    this.maybeFail();
    return this.idempotency.get(
      `idem/${target.service}/${target.key ?? ""}/${target.handler}/${idempotencyKey}`,
    );
  }

  async completeAwakeable(awakeableId: string, completion: Completion): Promise<void> {
    this.maybeFail();
    this.awakeables.push({ id: awakeableId, completion });
  }

  /** The fake's one valid credential: `attemptToken` must equal FAKE_ATTEMPT_TOKEN. */
  authenticateCheckpoint(invocationId: unknown, attemptToken: unknown): VerifiedAttempt {
    if (attemptToken !== FAKE_ATTEMPT_TOKEN || typeof invocationId !== "string")
      throw new RuntimeError("CHECKPOINT_UNAUTHORIZED", "not the fake's credential");
    return { partition: 0, invocationId, attempt: 1, epoch: 1, expiresAtMs: Number.MAX_SAFE_INTEGER };
  }

  async checkpoint(request: CheckpointRequest): Promise<CheckpointAck> {
    this.maybeFail();
    this.checkpoints.push(request);
    return this.checkpointAck;
  }

  async registerDeployment(
    endpoint: DeploymentEndpoint,
    options: { force: boolean },
  ): Promise<DeploymentInfo> {
    this.maybeFail();
    this.registrations.push({ endpoint, force: options.force });
    const info: DeploymentInfo = {
      id: `dp_${this.deployments.length + 1}`,
      endpoint,
      createdAtMs: 1,
      services: [{ name: "Greeter", kind: "service", handlers: [{ name: "greet", kind: "stateless" }] }],
    };
    this.deployments.push(info);
    return info;
  }

  async listDeployments(): Promise<DeploymentInfo[]> {
    this.maybeFail();
    return this.deployments;
  }

  async removeDeployment(id: string): Promise<void> {
    this.maybeFail();
    if (!this.deployments.some((d) => d.id === id)) {
      throw new RuntimeError("ADMIN_DEPLOYMENT_NOT_FOUND", `no deployment ${id}`);
    }
    this.removed.push(id);
  }

  async listServices(): Promise<ServiceInfo[]> {
    this.maybeFail();
    return this.services;
  }

  async listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]> {
    this.maybeFail();
    this.filters.push(filter);
    const after = filter.after;
    return [...this.invocations]
      .sort(compareListOrder)
      .filter((i) => after === undefined || compareListOrder(i, after) > 0)
      .slice(0, filter.limit)
      .map(({ journal: _j, result: _r, awaiting: _a, headers: _h, ...s }) => s);
  }

  /** What invocationLogs answers (per id); unknown ids are INVOCATION_NOT_FOUND. */
  logs = new Map<string, InvocationLogs>();
  logQueries: InvocationLogsQuery[] = [];

  async invocationLogs(invocationId: string, query: InvocationLogsQuery): Promise<InvocationLogs> {
    this.maybeFail();
    this.logQueries.push(query);
    const logs = this.logs.get(invocationId);
    if (logs === undefined)
      throw new RuntimeError("INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`);
    return logs;
  }

  async describeInvocation(invocationId: string): Promise<InvocationDetail | undefined> {
    this.maybeFail();
    return this.invocations.find((i) => i.id === invocationId);
  }

  async invocationAction(invocationId: string, action: InvocationAction): Promise<void> {
    this.maybeFail();
    if (!this.invocations.some((i) => i.id === invocationId)) {
      throw new RuntimeError("ADMIN_INVOCATION_NOT_FOUND", `no invocation ${invocationId}`);
    }
    this.actions.push({ invocationId, action });
  }

  async resumeInvocation(invocationId: string, options: ResumeOptions = {}): Promise<ResumeResult> {
    await this.invocationAction(invocationId, "resume");
    this.resumes.push({ invocationId, options });
    const deploymentId = options.deployment === "latest" ? "dp_latest" : (options.deployment ?? "dp_1");
    return { invocationId, deploymentId };
  }

  async restartAsNew(invocationId: string): Promise<SubmitResult> {
    this.maybeFail();
    const inv = this.invocations.find((i) => i.id === invocationId);
    if (inv === undefined) throw new RuntimeError("INVOCATION_NOT_FOUND", `no invocation ${invocationId}`);
    const first = inv.journal[0];
    const input = first?.kind === "input" ? first.value : "null";
    return this.submit({ target: inv.target, input, headers: inv.headers });
  }

  async getState(service: string, key: string): Promise<Record<string, Payload>> {
    this.maybeFail();
    return { ...(this.state.get(`${service}/${key}`) ?? {}) };
  }

  async patchState(service: string, key: string, patch: StatePatch): Promise<void> {
    this.maybeFail();
    this.patches.push({ service, key, patch });
    const current = patch.clearAll ? {} : { ...(this.state.get(`${service}/${key}`) ?? {}) };
    for (const k of patch.clear) delete current[k];
    Object.assign(current, patch.set);
    this.state.set(`${service}/${key}`, current);
  }

  async query(sql: string): Promise<string> {
    this.maybeFail();
    this.queries.push(sql);
    return JSON.stringify(this.queryResult);
  }

  health(): HealthInfo {
    return this.health_;
  }

  readiness(): ReadinessInfo {
    return this.readinessGates.of(this.health_);
  }

  async metrics(): Promise<string> {
    return "# TYPE capstan_invocations_total counter\ncapstan_invocations_total 3\n";
  }

  async clusterInfo(): Promise<ClusterInfo> {
    return {
      nodeId: "fake",
      mode: "single",
      leaseDurationMs: 10_000,
      nodes: [{ nodeId: "fake", address: "", pid: process.pid, live: true, self: true }],
      partitions: [{ partition: 0, leader: "fake", epoch: 1, state: "leading" }],
    };
  }
}
