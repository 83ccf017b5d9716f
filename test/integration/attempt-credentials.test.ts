/**
 * Attempt credentials over real HTTP: a deployment under the test's control (a node:http server that
 * records each invoke request and holds its answer) lets the test keep attempts running, so every
 * refused checkpoint below would otherwise have been applied. Each refusal is checked to change
 * nothing: no record appended to the partition, journals and state as before.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ATTEMPT_CREDENTIAL_TTL_MS, HttpInvoker, startRuntimeNode, type RuntimeNode } from "@capstan/runtime";
import { ManualClock } from "@capstan/runtime/testing";
import {
  CHECKPOINT_PATH,
  HEADER_CHECKPOINT_ATTEMPT_TOKEN,
  HEADER_CHECKPOINT_INVOCATION_ID,
  type InvokeRequest,
} from "@capstan/sdk/protocol";

interface HeldAttempt {
  request: InvokeRequest;
  respond(body: unknown): void;
}

/** A deployment that serves object `Counter` and hands each invoke to the test. */
class HeldDeployment {
  readonly attempts: HeldAttempt[] = [];
  private readonly waiters: Array<() => void> = [];
  private server!: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The next attempt of `invocationId` (already received or still to come). */
  async attemptOf(invocationId: string, attempt: number): Promise<HeldAttempt> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = this.attempts.find(
        (a) => a.request.invocationId === invocationId && a.request.attempt === attempt,
      );
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`attempt ${attempt} of ${invocationId} never came`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type: string };
    const reply = (body: unknown): void => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (message.type === "discover") {
      reply({
        type: "discovery",
        protocolVersion: 1,
        minProtocolVersion: 1,
        sdk: { name: "held", version: "0" },
        services: [{ name: "Counter", kind: "object", handlers: [{ name: "add", kind: "exclusive" }] }],
      });
      return;
    }
    this.attempts.push({ request: message as InvokeRequest, respond: reply });
    for (const wake of this.waiters.splice(0)) wake();
  }
}

describe("attempt credentials", () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-credentials-"));
  const clock = new ManualClock();
  const deployment = new HeldDeployment();
  let node: RuntimeNode;

  beforeAll(async () => {
    await deployment.start();
    node = await startRuntimeNode({
      dataDir,
      partitions: 4,
      host: "127.0.0.1",
      ingressPort: 0,
      adminPort: 0,
      checkpointPort: 0,
      invoker: new HttpInvoker(),
      clock,
      realTimers: false,
      log: () => undefined,
    });
    await node.runtime.registerDeployment({ kind: "http", url: deployment.url }, { force: true });
  });

  afterAll(async () => {
    await node.close();
    await deployment.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = async (key: string): Promise<string> =>
    (
      await node.runtime.submit({
        target: { service: "Counter", handler: "add", key },
        input: "1",
        headers: {},
      })
    ).invocationId;

  /** The credential in its headers, as the SDK sends it; the body carries the rest. */
  const checkpoint = (invocationId: string, attemptToken: string, extra: object = {}): Promise<Response> =>
    fetch(node.checkpointUrl + CHECKPOINT_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [HEADER_CHECKPOINT_INVOCATION_ID]: invocationId,
        [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: attemptToken,
      },
      body: JSON.stringify({ type: "checkpoint", protocolVersion: 1, entries: [], pending: [], ...extra }),
    });

  const codeOf = async (res: Response): Promise<[number, string]> => [
    res.status,
    ((await res.json()) as { code: string }).code,
  ];

  /** Everything a forged checkpoint could touch: the log's end, journals and states. */
  const snapshot = async (ids: string[]): Promise<unknown> => ({
    committedRecords: node.runtime.router.commitStats().records,
    journals: await Promise.all(ids.map(async (id) => (await node.runtime.describeInvocation(id))?.journal)),
    states: await Promise.all(["a", "b", "victim"].map((k) => node.runtime.getState("Counter", k))),
  });

  /** A `setState` on the victim's own key, which a forged checkpoint would add to invocation A's journal. */
  const rewrite = { entries: [{ index: 1, kind: "setState", key: "count", value: "1000000" }] };

  test("forged, tampered and moved credentials are refused and change nothing", async () => {
    const a = await send("a");
    const b = await send("b");
    const attemptA = await deployment.attemptOf(a, 1);
    const attemptB = await deployment.attemptOf(b, 1);
    const tokenA = attemptA.request.attemptToken;
    const before = await snapshot([a, b]);

    // The old guessable token, and a token of the right shape with a made-up MAC.
    expect(await codeOf(await checkpoint(a, "a1", rewrite))).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    const forged = tokenA.replace(/[^.]+$/, "A".repeat(43));
    expect(await codeOf(await checkpoint(a, forged, rewrite))).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    // Tampered: each covered field changed in turn (partition, attempt, epoch, expiry).
    const fields = tokenA.split(".");
    for (let i = 1; i <= 4; i++) {
      const changed = [...fields];
      changed[i] = String(Number(changed[i]) + 1);
      expect(await codeOf(await checkpoint(a, changed.join("."), rewrite))).toEqual([
        401,
        "CHECKPOINT_UNAUTHORIZED",
      ]);
    }
    // Moved: A's credential names A only — it cannot write B's journal, cancel B, or read B's results.
    expect(await codeOf(await checkpoint(b, tokenA, rewrite))).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    const cancelB = { entries: [{ index: 1, kind: "cancelInvocation", invocationId: b }] };
    expect(await codeOf(await checkpoint(b, tokenA, cancelB))).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    expect(await codeOf(await checkpoint(b, tokenA, { pending: [0, 1] }))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    expect(await snapshot([a, b])).toEqual(before);

    // The earlier form — the genuine credential in the body, no headers — is refused, not read.
    const bodyForm = await fetch(node.checkpointUrl + CHECKPOINT_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "checkpoint",
        protocolVersion: 1,
        invocationId: a,
        attemptToken: tokenA,
        ...rewrite,
        pending: [],
      }),
    });
    expect(await codeOf(bodyForm)).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    // A forged credential is refused with the body unread: an undecodable body makes no difference.
    const garbage = await fetch(node.checkpointUrl + CHECKPOINT_PATH, {
      method: "POST",
      headers: { [HEADER_CHECKPOINT_INVOCATION_ID]: a, [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: forged },
      body: "{".repeat(1000),
    });
    expect(await codeOf(garbage)).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    expect(await snapshot([a, b])).toEqual(before);

    // The genuine credential still works: the refusals above were not a broken channel.
    const ok = await checkpoint(a, tokenA, rewrite);
    expect(ok.status).toBe(200);
    expect((await node.runtime.describeInvocation(a))?.journal).toHaveLength(2);
    attemptA.respond({
      type: "response",
      protocolVersion: 1,
      invocationId: a,
      attemptToken: tokenA,
      entries: [],
      outcome: { kind: "completed", value: "1" },
    });
    attemptB.respond({
      type: "response",
      protocolVersion: 1,
      invocationId: b,
      attemptToken: attemptB.request.attemptToken,
      entries: [],
      outcome: { kind: "completed", value: "1" },
    });
  });

  test("a previous attempt's credential is stale; an expired one is refused", async () => {
    const id = await send("victim");
    const first = await deployment.attemptOf(id, 1);
    first.respond({
      type: "response",
      protocolVersion: 1,
      invocationId: id,
      attemptToken: first.request.attemptToken,
      entries: [],
      outcome: { kind: "retry", error: { message: "try again" } },
    });
    // The retry's backoff timer fires on the manual clock: attempt 2 starts.
    let second: HeldAttempt | undefined;
    const secondComing = deployment.attemptOf(id, 2).then((s) => (second = s));
    while (second === undefined) {
      clock.advanceBy(1_000);
      node.runtime.timers.fireDue();
      await Promise.race([secondComing, new Promise((r) => setTimeout(r, 10))]);
    }
    const before = await snapshot([id]);

    expect(await codeOf(await checkpoint(id, first.request.attemptToken, rewrite))).toEqual([
      409,
      "INVOKE_STALE_ATTEMPT",
    ]);
    // Past its expiry even the current attempt's genuine credential is refused.
    clock.advanceBy(ATTEMPT_CREDENTIAL_TTL_MS);
    expect(await codeOf(await checkpoint(id, second.request.attemptToken, rewrite))).toEqual([
      401,
      "CHECKPOINT_CREDENTIAL_EXPIRED",
    ]);
    expect(await snapshot([id])).toEqual(before);
    second.respond({
      type: "response",
      protocolVersion: 1,
      invocationId: id,
      attemptToken: second.request.attemptToken,
      entries: [],
      outcome: { kind: "completed", value: "1" },
    });
  });
});
