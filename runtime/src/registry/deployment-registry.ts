/**
 * Registered deployments and the services they serve. Persisted in the PartitionStore's metadata
 * (durable before a registration is acknowledged). A service is served by the newest deployment that
 * has it; invocations stay pinned to the deployment they started on. Registering a deployment that is
 * already registered changes nothing, unless with `force`: then it serves its services again (a
 * rollback to an older version, as Restate's forced re-registration does).
 *
 * Shared by every node on one store (a cluster): a deployment registered on one node serves on all.
 * Each node keeps the registry in memory and reloads it from the store (registry-refresh.ts): when a
 * lookup misses (before answering "unknown service" or "deployment not registered"), before a
 * registration or removal, and on use once its copy is older than REGISTRY_MAX_STALENESS_MS.
 */
import { randomUUID } from "node:crypto";
import type { DiscoveryResponse, HandlerOptions, ServiceDescription } from "@capstan/sdk/protocol";
import type { DeploymentEndpoint } from "../invoker/invoker";
import type { PartitionStore } from "../storage/partition-store";
import { isRuntimeError, RuntimeError } from "../runtime-error";
import type { DeploymentInfo, ServiceInfo } from "../server/runtime-api";
import { RegistryRefresh } from "./registry-refresh";

const META_PREFIX = "deployment/";
/** Deployments kept registered at once. */
export const MAX_DEPLOYMENTS = 1_000;

export interface Deployment {
  id: string;
  endpoint: DeploymentEndpoint;
  createdAtMs: number;
  /** When a forced re-registration made it serve its services again; newest serves. */
  activatedAtMs?: number;
  services: ServiceDescription[];
}

export interface ResolvedHandler {
  deployment: Deployment;
  service: ServiceDescription;
  handler: ServiceDescription["handlers"][number];
  /** Handler options over service options. */
  options: HandlerOptions;
}

export class DeploymentRegistry {
  private deployments = new Map<string, Deployment>();
  /** Service name → deployment serving it (newest registration wins). */
  private readonly services = new Map<string, Deployment>();
  private readonly refresher: RegistryRefresh;

  /** `nowMs`: the wall clock that times the copy's staleness (a test passes its own). */
  constructor(
    private readonly store: PartitionStore,
    nowMs: () => number = Date.now,
  ) {
    this.refresher = new RegistryRefresh(() => this.reload(), nowMs);
  }

  /** Loads the registry from the store (at start). */
  async load(): Promise<void> {
    await this.refresher.refresh();
  }

  /** Reloads now: what other nodes registered or removed becomes visible here. */
  refresh(): Promise<void> {
    return this.refresher.refresh();
  }

  /** Replaces the copy by what the store holds; runs in the refresher's queue, never beside a change. */
  private async reload(): Promise<void> {
    const rows = await this.store.listMeta(META_PREFIX);
    const loaded = new Map<string, Deployment>();
    for (const r of rows) loaded.set((r.value as Deployment).id, r.value as Deployment);
    this.deployments = loaded;
    this.reindex();
  }

  async register(
    endpoint: DeploymentEndpoint,
    discovery: DiscoveryResponse,
    nowMs: number,
    force: boolean,
  ): Promise<Deployment> {
    // Against the store's registry, not this node's copy: another node may have registered meanwhile.
    return this.refresher.exclusive(async () => {
      await this.refresher.reloadNow();
      return this.registerLoaded(endpoint, discovery, nowMs, force);
    });
  }

  private async registerLoaded(
    endpoint: DeploymentEndpoint,
    discovery: DiscoveryResponse,
    nowMs: number,
    force: boolean,
  ): Promise<Deployment> {
    const same = [...this.deployments.values()].find((d) => sameEndpoint(d.endpoint, endpoint));
    if (same && JSON.stringify(same.services) === JSON.stringify(discovery.services)) {
      if (!force || same.services.every((s) => this.services.get(s.name) === same)) return same;
      return this.save({ ...same, activatedAtMs: nowMs });
    }
    if (this.deployments.size >= MAX_DEPLOYMENTS) {
      throw new RuntimeError(
        "ADMIN_TOO_MANY_DEPLOYMENTS",
        `at most ${MAX_DEPLOYMENTS} deployments may be registered`,
      );
    }
    for (const s of discovery.services) {
      const current = this.services.get(s.name);
      const old = current?.services.find((x) => x.name === s.name);
      if (old && old.kind !== s.kind && !force) {
        throw new RuntimeError(
          "ADMIN_SERVICE_KIND_CHANGED",
          `service ${s.name} is a ${old.kind} in deployment ${current!.id} but a ${s.kind} here; register with force to replace it`,
        );
      }
    }
    return this.save({
      id: `dp_${randomUUID().replace(/-/g, "").slice(0, 20)}`,
      endpoint,
      createdAtMs: nowMs,
      services: discovery.services,
    });
  }

  private async save(deployment: Deployment): Promise<Deployment> {
    await this.store.putMeta(META_PREFIX + deployment.id, deployment);
    this.deployments.set(deployment.id, deployment);
    this.reindex();
    return deployment;
  }

  async remove(id: string): Promise<void> {
    await this.refresher.exclusive(async () => {
      await this.refresher.reloadNow();
      if (!this.deployments.has(id))
        throw new RuntimeError("ADMIN_DEPLOYMENT_NOT_FOUND", `no deployment ${id}`);
      await this.store.deleteMeta(META_PREFIX + id);
      this.deployments.delete(id);
      this.reindex();
    });
  }

  /** This node's copy (refreshed in the background once stale); `getCurrent` looks further on a miss. */
  get(id: string): Deployment | undefined {
    this.refresher.refreshIfStale();
    return this.deployments.get(id);
  }

  /** The deployment, reloading the registry first when this node's copy does not have it. */
  async getCurrent(id: string): Promise<Deployment | undefined> {
    await this.refresher.freshCopy();
    const known = this.deployments.get(id);
    if (known !== undefined) return known;
    await this.refresher.refreshAfterMiss();
    return this.deployments.get(id);
  }

  list(): Deployment[] {
    this.refresher.refreshIfStale();
    return [...this.deployments.values()];
  }

  listServices(): ServiceInfo[] {
    this.refresher.refreshIfStale();
    return [...this.services.entries()].map(([name, d]) => {
      const s = d.services.find((x) => x.name === name)!;
      return {
        name,
        kind: s.kind,
        deploymentId: d.id,
        ...(s.options?.ingressPrivate === true && { ingressPrivate: true }),
        handlers: s.handlers.map((h) => ({
          name: h.name,
          kind: h.kind,
          ...(isIngressPrivate(s, h) && { ingressPrivate: true }),
        })),
      };
    });
  }

  /**
   * Like `resolve`, but a copy older than REGISTRY_MAX_STALENESS_MS is reloaded first, and a miss
   * reloads before the caller hears "unknown service" or "unknown handler".
   */
  async resolveCurrent(service: string, handler: string): Promise<ResolvedHandler> {
    await this.refresher.freshCopy();
    try {
      return this.resolveLoaded(service, handler);
    } catch (e) {
      if (!isRuntimeError(e) || !e.code.endsWith("_NOT_FOUND")) throw e;
      await this.refresher.refreshAfterMiss();
      return this.resolveLoaded(service, handler);
    }
  }

  /**
   * Resolves a target for a new invocation from this node's copy, or throws the RuntimeError the
   * caller should see; a miss reloads the copy in the background (the caller's retry finds what
   * another node registered). `resolveCurrent` waits for that reload instead.
   */
  resolve(service: string, handler: string): ResolvedHandler {
    this.refresher.refreshIfStale();
    try {
      return this.resolveLoaded(service, handler);
    } catch (e) {
      if (isRuntimeError(e) && e.code.endsWith("_NOT_FOUND")) void this.refresher.refreshAfterMiss();
      throw e;
    }
  }

  private resolveLoaded(service: string, handler: string): ResolvedHandler {
    const deployment = this.services.get(service);
    const svc = deployment?.services.find((s) => s.name === service);
    if (!deployment || !svc)
      throw new RuntimeError("INGRESS_SERVICE_NOT_FOUND", `service ${service} is not registered`);
    const h = svc.handlers.find((x) => x.name === handler);
    if (!h)
      throw new RuntimeError("INGRESS_HANDLER_NOT_FOUND", `service ${service} has no handler ${handler}`);
    return { deployment, service: svc, handler: h, options: { ...svc.options, ...h.options } };
  }

  private reindex(): void {
    this.services.clear();
    const servedSince = (d: Deployment): number => d.activatedAtMs ?? d.createdAtMs;
    const byAge = [...this.deployments.values()].sort((a, b) => servedSince(a) - servedSince(b));
    for (const d of byAge) for (const s of d.services) this.services.set(s.name, d);
  }
}

/** A handler's own `ingressPrivate` wins over its service's. */
export function isIngressPrivate(
  service: ServiceDescription,
  handler: ServiceDescription["handlers"][number],
): boolean {
  return (handler.options?.ingressPrivate ?? service.options?.ingressPrivate) === true;
}

export function toDeploymentInfo(d: Deployment): DeploymentInfo {
  return {
    id: d.id,
    endpoint: d.endpoint,
    createdAtMs: d.createdAtMs,
    services: d.services.map((s) => ({
      name: s.name,
      kind: s.kind,
      handlers: s.handlers.map((h) => ({ name: h.name, kind: h.kind })),
    })),
  };
}

function sameEndpoint(a: DeploymentEndpoint, b: DeploymentEndpoint): boolean {
  return (
    a.kind === b.kind &&
    (a.kind === "lambda" ? a.arn === (b as typeof a).arn : a.url === (b as { url: string }).url)
  );
}
