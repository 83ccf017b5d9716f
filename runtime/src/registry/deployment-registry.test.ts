import type { DiscoveryResponse } from "@capstan/sdk/protocol";
import { InMemoryPartitionStore } from "../storage/in-memory-partition-store";
import type { PartitionStore } from "../storage/partition-store";
import { DeploymentRegistry, MAX_DEPLOYMENTS } from "./deployment-registry";

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
  expect(await registry.register({ kind: "lambda", arn: "fn:1" }, discovery("service"), 3, false)).toBe(v1);
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
