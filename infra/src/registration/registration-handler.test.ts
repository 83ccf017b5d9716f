/**
 * The registration custom resource's handler, called with CloudFormation-shaped events (as the
 * provider framework passes them) against a real runtime on 127.0.0.1: its admin API registers,
 * lists, queries and removes deployments for real, and the "Lambda versions" are SDK endpoints in
 * this process. Only the Lambda API's version deletion is recorded instead of performed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { startRuntimeNode, type RuntimeNode } from "@capstan/runtime";
import { createEndpoint, service } from "@capstan/sdk";
import { httpAdminApi } from "./admin-client";
import { isCompleteWith, onEventWith, type RegistrationEvent } from "./registration-handler";
import type { RegistrationDeps } from "./registration";
import { ArnInvoker } from "./test-support/arn-invoker";

const arn = (fn: string, version: number): string =>
  `arn:aws:lambda:eu-west-1:123456789012:function:${fn}:${version}`;

/** A service that waits for an approval: it stays pinned to its version until resolved. */
function approvals(name: string, published: (awakeableId: string) => void) {
  return service({
    name,
    handlers: {
      waitForApproval: async (ctx, _input: unknown) => {
        const approval = ctx.awakeable<string>();
        await ctx.run("publish-awakeable-id", () => published(approval.id));
        return `approved by ${await approval.promise}`;
      },
    },
  });
}

function event(
  RequestType: RegistrationEvent["RequestType"],
  versionArn: string,
  PhysicalResourceId?: string,
): RegistrationEvent {
  return {
    RequestType,
    ResourceProperties: { VersionArn: versionArn },
    ...(PhysicalResourceId !== undefined && { PhysicalResourceId }),
  };
}

describe("registration handler against a real runtime", () => {
  let dataDir: string;
  let node: RuntimeNode;
  const invoker = new ArnInvoker();
  const deleted: string[] = [];
  const logs: string[] = [];
  let lastAwakeable: ((id: string) => void) | undefined;
  const deps = (adminUrl = node.adminUrl): RegistrationDeps => ({
    admin: httpAdminApi(adminUrl, node.adminToken),
    deleteVersion: async (versionArn) => void deleted.push(versionArn),
    log: (message) => void logs.push(message),
  });
  const admin = () => httpAdminApi(node.adminUrl, node.adminToken);
  const adminGet = async (path: string): Promise<unknown> =>
    (await fetch(node.adminUrl + path, { headers: { authorization: `Bearer ${node.adminToken}` } })).json();

  /** Create/Update as CloudFormation drives it: onEvent once, then isComplete until done. */
  async function deploy(e: RegistrationEvent): Promise<Record<string, string>> {
    const { PhysicalResourceId } = await onEventWith(e);
    expect(PhysicalResourceId).toBe(e.ResourceProperties.VersionArn);
    const done = await isCompleteWith(e, deps());
    expect(done.IsComplete).toBe(true);
    return done.Data!;
  }

  async function startApproval(serviceName: string): Promise<{ invocationId: string; awakeableId: string }> {
    const published = new Promise<string>((resolve) => (lastAwakeable = resolve));
    const res = await fetch(`${node.ingressUrl}/${serviceName}/waitForApproval/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "null",
    });
    expect(res.status).toBeLessThan(300);
    const { invocationId } = (await res.json()) as { invocationId: string };
    return { invocationId, awakeableId: await published };
  }

  beforeAll(async () => {
    for (const [fn, svc] of [
      ["created", "Created"],
      ["approvals", "Approvals"],
      ["rollback", "Rollback"],
      ["retired", "Retired"],
    ] as const) {
      const endpoint = createEndpoint(approvals(svc, (id) => lastAwakeable?.(id)));
      for (const v of [1, 2, 3]) invoker.add(arn(fn, v), endpoint);
    }
    dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-registration-"));
    node = await startRuntimeNode({
      dataDir,
      partitions: 2,
      host: "127.0.0.1",
      ingressPort: 0,
      adminPort: 0,
      checkpointPort: 0,
      invoker,
      // Completed invocations stay attachable while the test reads their output.
      completedRetentionMs: 3_600_000,
      log: () => undefined,
    });
  });
  afterAll(async () => {
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("Create registers the version, and the runtime serves its services from it", async () => {
    const data = await deploy(event("Create", arn("created", 1)));
    expect(data).toMatchObject({ Pruned: "0", Pinned: "0" });
    const services = (await adminGet("/services")) as { services: unknown[] };
    expect(services.services).toContainEqual(
      expect.objectContaining({ name: "Created", deploymentId: data.DeploymentId }),
    );
    // A retried isComplete (the framework polls) changes nothing: registration is idempotent.
    expect((await isCompleteWith(event("Create", arn("created", 1)), deps())).Data!.DeploymentId).toBe(
      data.DeploymentId,
    );
  });

  test("an Update keeps a version with a suspended invocation until it finishes; the next deploy prunes it", async () => {
    await deploy(event("Create", arn("approvals", 1)));
    const { invocationId, awakeableId } = await startApproval("Approvals");

    // Deploy version 2: it takes new invocations; version 1 is superseded but pinned.
    const v2 = await deploy(event("Update", arn("approvals", 2), arn("approvals", 1)));
    expect(v2).toMatchObject({ Pruned: "0", Pinned: "1" });
    // CloudFormation then deletes the old physical id (version 1): kept, since it is pinned.
    expect(await isCompleteWith(event("Delete", arn("approvals", 1), arn("approvals", 1)), deps())).toEqual({
      IsComplete: true,
    });
    expect((await admin().lambdaDeployments()).map((d) => d.arn)).toContain(arn("approvals", 1));
    expect(deleted).not.toContain(arn("approvals", 1));
    expect(logs.some((l) => l.includes("pinned"))).toBe(true);

    // The suspended invocation finishes on its pinned version.
    const resolved = await fetch(`${node.ingressUrl}/restate/awakeables/${awakeableId}/resolve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify("ops"),
    });
    expect(resolved.status).toBe(202);
    const output = await fetch(`${node.ingressUrl}/restate/invocation/${invocationId}/attach`);
    expect(await output.json()).toBe("approved by ops");

    // Version 3's deploy finds versions 1 and 2 drained: both unregistered and deleted.
    const v3 = await deploy(event("Update", arn("approvals", 3), arn("approvals", 2)));
    expect(v3).toMatchObject({ Pruned: "2", Pinned: "0" });
    expect(deleted).toEqual(expect.arrayContaining([arn("approvals", 1), arn("approvals", 2)]));
    expect(
      (await admin().lambdaDeployments()).map((d) => d.arn).filter((a) => a.includes(":approvals:")),
    ).toEqual([arn("approvals", 3)]);
    // New invocations run on version 3.
    const served = (await admin().servingDeploymentIds()).has(v3.DeploymentId!);
    expect(served).toBe(true);
  });

  test("a rollback re-registers the older version with force, so it serves again", async () => {
    const v1 = await deploy(event("Create", arn("rollback", 1)));
    const { invocationId, awakeableId } = await startApproval("Rollback"); // pins version 1
    const v2 = await deploy(event("Update", arn("rollback", 2), arn("rollback", 1)));
    expect(v2.DeploymentId).not.toBe(v1.DeploymentId);

    // CloudFormation rolls back: Update with the old properties.
    const back = await deploy(event("Update", arn("rollback", 1), arn("rollback", 2)));
    expect(back.DeploymentId).toBe(v1.DeploymentId);
    const services = (await adminGet("/services")) as {
      services: Array<{ name: string; deploymentId: string }>;
    };
    expect(services.services.find((s) => s.name === "Rollback")?.deploymentId).toBe(v1.DeploymentId);
    await fetch(`${node.ingressUrl}/restate/awakeables/${awakeableId}/resolve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify("rollback"),
    });
    expect(await (await fetch(`${node.ingressUrl}/restate/invocation/${invocationId}/attach`)).json()).toBe(
      "approved by rollback",
    );
  });

  test("Delete of a function's serving version unregisters it once drained", async () => {
    await deploy(event("Create", arn("retired", 1)));
    expect(await isCompleteWith(event("Delete", arn("retired", 1), arn("retired", 1)), deps())).toEqual({
      IsComplete: true,
    });
    expect((await admin().lambdaDeployments()).map((d) => d.arn)).not.toContain(arn("retired", 1));
    expect(deleted).toContain(arn("retired", 1));
    const ingress = await fetch(`${node.ingressUrl}/Retired/waitForApproval`, {
      method: "POST",
      body: "null",
    });
    expect(ingress.status).toBe(404);
  });

  test("an unreachable runtime: Create answers not-yet (the framework polls again), Delete never blocks", async () => {
    const closedPort = await freePort();
    const unreachable = `http://127.0.0.1:${closedPort}`;
    expect(await isCompleteWith(event("Create", arn("approvals", 3)), deps(unreachable))).toEqual({
      IsComplete: false,
    });
    expect(
      await isCompleteWith(event("Delete", arn("approvals", 3), arn("approvals", 3)), deps(unreachable)),
    ).toEqual({ IsComplete: true });
  });

  test("a token the runtime refuses fails the deploy at once instead of polling", async () => {
    const wrongToken = { ...deps(), admin: httpAdminApi(node.adminUrl, "not-the-admin-token-0123") };
    await expect(isCompleteWith(event("Create", arn("created", 2)), wrongToken)).rejects.toThrow(/401/);
    expect((await admin().lambdaDeployments()).map((d) => d.arn)).not.toContain(arn("created", 2));
  });

  test("a version the runtime cannot discover is retried, an invalid VersionArn fails at once", async () => {
    // Not (yet) invocable: e.g. the invoke grant still propagating. Discovery fails → not yet.
    expect(await isCompleteWith(event("Create", arn("unknown", 1)), deps())).toEqual({ IsComplete: false });
    await expect(
      onEventWith(event("Create", "arn:aws:lambda:eu-west-1:123456789012:function:x")),
    ).rejects.toThrow(/published Lambda version ARN/);
    await expect(
      onEventWith(event("Create", "arn:aws:lambda:eu-west-1:123456789012:function:x:$LATEST")),
    ).rejects.toThrow(/published Lambda version ARN/);
  });
});

/** A port nothing listens on: bound, read, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
