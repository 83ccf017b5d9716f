import type { DiscoveryResponse } from "@capstan/sdk/protocol";
import { InMemoryPartitionStore } from "../storage/in-memory-partition-store";
import type { PartitionStore } from "../storage/partition-store";
import { DeploymentRegistry, MAX_DEPLOYMENTS } from "./deployment-registry";
import { REGISTRY_MAX_STALENESS_MS } from "./registry-refresh";

function memoryStore(): PartitionStore {
  return new InMemoryPartitionStore();
}

const discovery = (kind: "service" | "object"): DiscoveryResponse => ({
  type: "discovery",
  protocolVersion: 1,
  minProtocolVersion: 1,
  sdk: { name: "test", version: "0" },
  services: [
    { name: "Svc", kind, handlers: [{ name: "h", kind: kind === "service" ? "stateless" : "exclusive" }] },
  ],
});

test("at most MAX_DEPLOYMENTS are registered; the next one is refused with a stable code", async () => {
  const registry = new DeploymentRegistry(memoryStore());
  for (let i = 0; i < MAX_DEPLOYMENTS; i++) {
    await registry.register({ kind: "http", url: `http://h/${i}` }, discovery("service"), i, false);
  }
  expect(registry.list()).toHaveLength(MAX_DEPLOYMENTS);
  await expect(
    registry.register({ kind: "http", url: "http://h/x" }, discovery("service"), 0, false),
  ).rejects.toMatchObject({ code: "ADMIN_TOO_MANY_DEPLOYMENTS" });
});

test("a service cannot silently change kind; force replaces it and survives a reload", async () => {
  const store = memoryStore();
  const registry = new DeploymentRegistry(store);
  await registry.register({ kind: "http", url: "http://a" }, discovery("service"), 1, false);
  await expect(
    registry.register({ kind: "http", url: "http://b" }, discovery("object"), 2, false),
  ).rejects.toMatchObject({
    code: "ADMIN_SERVICE_KIND_CHANGED",
  });
  const forced = await registry.register({ kind: "http", url: "http://b" }, discovery("object"), 2, true);
  const reloaded = new DeploymentRegistry(store);
  await reloaded.load();
  expect(reloaded.resolve("Svc", "h").deployment.id).toBe(forced.id);
});

test("re-registering changes nothing; with force an older deployment serves again, also after a reload", async () => {
  const store = memoryStore();
  const registry = new DeploymentRegistry(store);
  const v1 = await registry.register({ kind: "lambda", arn: "fn:1" }, discovery("service"), 1, false);
  const v2 = await registry.register({ kind: "lambda", arn: "fn:2" }, discovery("service"), 2, false);
  expect(await registry.register({ kind: "lambda", arn: "fn:1" }, discovery("service"), 3, false)).toEqual(
    v1,
  );
  expect(registry.resolve("Svc", "h").deployment.id).toBe(v2.id);

  const rolledBack = await registry.register({ kind: "lambda", arn: "fn:1" }, discovery("service"), 4, true);
  expect(rolledBack.id).toBe(v1.id);
  expect(registry.resolve("Svc", "h").deployment.id).toBe(v1.id);
  expect(registry.list()).toHaveLength(2);
  const reloaded = new DeploymentRegistry(store);
  await reloaded.load();
  expect(reloaded.resolve("Svc", "h").deployment.id).toBe(v1.id);
  // Already serving: a forced re-registration leaves it as it is.
  expect(await registry.register({ kind: "lambda", arn: "fn:1" }, discovery("service"), 5, true)).toBe(
    registry.get(v1.id),
  );
});

describe("one registry shared by the nodes of a store", () => {
  test("a deployment registered on one node resolves on another at once (reload on a miss)", async () => {
    const store = memoryStore();
    const a = new DeploymentRegistry(store);
    const b = new DeploymentRegistry(store);
    await a.load();
    await b.load();
    const d = await a.register({ kind: "http", url: "http://a" }, discovery("service"), 1, false);
    // b's copy is fresh (just loaded) and does not have it: the miss reloads before answering.
    expect((await b.resolveCurrent("Svc", "h")).deployment.id).toBe(d.id);
    expect((await b.getCurrent(d.id))?.id).toBe(d.id);
    expect(b.resolve("Svc", "h").deployment.id).toBe(d.id);
  });

  test("a synchronous lookup that misses reloads in the background: the retry finds it", async () => {
    const store = memoryStore();
    const a = new DeploymentRegistry(store);
    const b = new DeploymentRegistry(store);
    await a.load();
    await b.load();
    const d = await a.register({ kind: "http", url: "http://a" }, discovery("service"), 1, false);
    expect(() => b.resolve("Svc", "h")).toThrow(
      expect.objectContaining({ code: "INGRESS_SERVICE_NOT_FOUND" }),
    );
    await b.refresh(); // joins the reload the miss queued
    expect(b.resolve("Svc", "h").deployment.id).toBe(d.id);
  });

  test("an unknown service is still unknown after the reload, with its stable code", async () => {
    const b = new DeploymentRegistry(memoryStore());
    await b.load();
    await expect(b.resolveCurrent("Nope", "h")).rejects.toMatchObject({ code: "INGRESS_SERVICE_NOT_FOUND" });
    expect(await b.getCurrent("dp_missing")).toBeUndefined();
  });

  test("a copy older than REGISTRY_MAX_STALENESS_MS takes a newer version from another node", async () => {
    const store = memoryStore();
    let now = 0;
    const a = new DeploymentRegistry(store);
    const b = new DeploymentRegistry(store, () => now);
    await a.load();
    await a.register({ kind: "lambda", arn: "fn:1" }, discovery("service"), 1, false);
    await b.load();
    const v2 = await a.register({ kind: "lambda", arn: "fn:2" }, discovery("service"), 2, false);
    // At the limit the copy still serves; one past it is reloaded before answering.
    now = REGISTRY_MAX_STALENESS_MS;
    expect((await b.resolveCurrent("Svc", "h")).deployment.endpoint).toEqual({ kind: "lambda", arn: "fn:1" });
    now = REGISTRY_MAX_STALENESS_MS + 1;
    expect((await b.resolveCurrent("Svc", "h")).deployment.id).toBe(v2.id);
  });

  test("a removal on one node and a registration on another both see the store", async () => {
    const store = memoryStore();
    let now = 0;
    const a = new DeploymentRegistry(store, () => now);
    const b = new DeploymentRegistry(store);
    await a.load();
    await b.load();
    const d = await a.register({ kind: "http", url: "http://a" }, discovery("service"), 1, false);
    // b never looked it up: its removal reloads first, so it finds it.
    await b.remove(d.id);
    // a's copy keeps it until it is older than the limit.
    expect((await a.getCurrent(d.id))?.id).toBe(d.id);
    now = REGISTRY_MAX_STALENESS_MS + 1;
    expect(await a.getCurrent(d.id)).toBeUndefined();
    // Registering the same endpoint again on a now makes a new deployment, not the removed one.
    const again = await a.register({ kind: "http", url: "http://a" }, discovery("service"), 2, false);
    expect(again.id).not.toBe(d.id);
    expect(b.list()).toHaveLength(0); // b's copy: stale until used past the limit or missed
    expect((await b.getCurrent(again.id))?.id).toBe(again.id);
    expect(b.list()).toHaveLength(1);
  });

  test("lookups that miss together share one reload queued behind the running one", async () => {
    const store = memoryStore();
    let reads = 0;
    const counting: PartitionStore = Object.assign(Object.create(store) as PartitionStore, {
      listMeta: (prefix: string) => {
        reads++;
        return store.listMeta(prefix);
      },
    });
    const b = new DeploymentRegistry(counting);
    await b.load();
    reads = 0;
    const misses = Array.from({ length: 50 }, () => b.getCurrent("dp_missing"));
    expect(await Promise.all(misses)).toEqual(Array(50).fill(undefined));
    expect(reads).toBeLessThanOrEqual(2);
  });
});
