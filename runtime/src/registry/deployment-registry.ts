/**
 * Registered deployments and the services they serve. Persisted in the PartitionStore's metadata
 * (durable before a registration is acknowledged). A service is served by the newest deployment that
 * has it; invocations stay pinned to the deployment they started on. Registering a deployment that is
 * already registered changes nothing, unless with `force`: then it serves its services again (a
 * rollback to an older version, as Restate's forced re-registration does).
 */
import { randomUUID } from "node:crypto";
import type { DiscoveryResponse, HandlerOptions, ServiceDescription } from "@capstan/sdk/protocol";
import type { DeploymentEndpoint } from "../invoker/invoker";
import type { PartitionStore } from "../storage/partition-store";
import { RuntimeError } from "../runtime-error";
import type { DeploymentInfo, ServiceInfo } from "../server/runtime-api";

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
  private readonly deployments = new Map<string, Deployment>();
  /** Service name → deployment serving it (newest registration wins). */
  private readonly services = new Map<string, Deployment>();

  constructor(private readonly store: PartitionStore) {}

  async load(): Promise<void> {
    const rows = await this.store.listMeta(META_PREFIX);
    for (const r of rows) this.deployments.set((r.value as Deployment).id, r.value as Deployment);
    this.reindex();
  }

  async register(
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
    if (!this.deployments.has(id))
      throw new RuntimeError("ADMIN_DEPLOYMENT_NOT_FOUND", `no deployment ${id}`);
    await this.store.deleteMeta(META_PREFIX + id);
    this.deployments.delete(id);
    this.reindex();
  }

  get(id: string): Deployment | undefined {
    return this.deployments.get(id);
  }

  list(): Deployment[] {
    return [...this.deployments.values()];
  }

  listServices(): ServiceInfo[] {
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

  /** Resolves a target for a new invocation, or throws the RuntimeError the caller should see. */
  resolve(service: string, handler: string): ResolvedHandler {
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
