/**
 * Path and wire compatibility with Restate's own client, `@restatedev/restate-sdk-clients`, against
 * the ingress backed by a fake runtime.
 */
import * as clients from "@restatedev/restate-sdk-clients";
import { FakeRuntimeApi } from "./test-support/fake-runtime-api";
import type { ServerHandle } from "./http-server";
import { startIngressServer } from "./ingress-server";

type Greeter = { greet: (ctx: unknown, name: string) => Promise<string> };
type Counter = { add: (ctx: unknown, n: number) => Promise<number> };
type Signup = { run: (ctx: unknown, email: string) => Promise<boolean> };

let api: FakeRuntimeApi;
let server: ServerHandle;
let ingress: clients.Ingress;

beforeEach(async () => {
  api = new FakeRuntimeApi();
  api.handlers.set("Greeter/greet", (input) => ({
    kind: "value",
    value: JSON.stringify(`Hello ${JSON.parse(input)}`),
  }));
  api.handlers.set("Counter/add", (input) => ({
    kind: "value",
    value: String(Number(JSON.parse(input)) + 1),
  }));
  server = await startIngressServer({ api, host: "127.0.0.1", port: 0, logger: { error: () => {} } });
  ingress = clients.connect({ url: `http://127.0.0.1:${server.port}` });
});

afterEach(async () => {
  await server.close();
});

describe("@restatedev/restate-sdk-clients against the ingress", () => {
  it("calls services and objects, with an idempotency key and headers", async () => {
    expect(await ingress.serviceClient<Greeter>({ name: "Greeter" }).greet("Ann")).toBe("Hello Ann");
    const counter = ingress.objectClient<Counter>({ name: "Counter" }, "cart/1");
    expect(
      await counter.add(41, clients.rpc.opts({ idempotencyKey: "req-1", headers: { "x-tenant": "t" } })),
    ).toBe(42);
    expect(api.submits[1]).toMatchObject({
      target: { service: "Counter", key: "cart/1", handler: "add" },
      input: "41",
      idempotencyKey: "req-1",
      headers: expect.objectContaining({ "x-tenant": "t", "content-type": "application/json" }),
    });
    // The generic call API routes the same way.
    const out = await ingress.call<number, number>({
      service: "Counter",
      key: "k",
      handler: "add",
      parameter: 1,
      opts: clients.rpc.opts({ input: clients.serde.json, output: clients.serde.json }),
    });
    expect(out).toBe(2);
  });

  it("sends with a delay and an idempotency key, then fetches the result by attaching", async () => {
    const send = ingress.serviceSendClient<Greeter>({ name: "Greeter" });
    const first = await send.greet(
      "Bo",
      clients.rpc.sendOpts({ delay: { seconds: 90 }, idempotencyKey: "s-1" }),
    );
    expect(first).toEqual({
      invocationId: "inv_1_fake00000001",
      status: "Accepted",
      attachable: true,
      executionTime: expect.any(String),
    });
    expect(api.submits[0]!.delayMs).toBe(90_000);
    const second = await send.greet("Bo", clients.rpc.sendOpts({ idempotencyKey: "s-1" }));
    expect(second).toMatchObject({ invocationId: first.invocationId, status: "PreviouslyAccepted" });
    expect(await ingress.result(first)).toBe("Hello Bo");
    const plain = await ingress.objectSendClient<Counter>({ name: "Counter" }, "k").add(1);
    expect(plain).toEqual({ invocationId: "inv_1_fake00000002", status: "Accepted", attachable: false });
  });

  it("submits a workflow, reads its output (not ready, then ready) and attaches", async () => {
    const wf = ingress.workflowClient<Signup>({ name: "Signup" }, "user-7");
    const submission = await wf.workflowSubmit("a@b.c");
    expect(submission).toEqual({ invocationId: "inv_1_fake00000001", status: "Accepted", attachable: true });
    expect(api.submits[0]).toMatchObject({
      target: { service: "Signup", key: "user-7", handler: "run" },
      input: '"a@b.c"',
    });
    expect((await wf.workflowOutput()).ready).toBe(false);
    const again = await wf.workflowSubmit("a@b.c");
    expect(again.status).toBe("PreviouslyAccepted");
    const attached = wf.workflowAttach();
    await api.awaitCalled(1);
    api.complete(submission.invocationId, { kind: "value", value: "true" });
    expect(await attached).toBe(true);
    const output = await wf.workflowOutput();
    expect([output.ready, output.result]).toEqual([true, true]);
  });

  it("resolves and rejects awakeables", async () => {
    const id = "awk_inv_3_abcdefgh_2";
    await ingress.resolveAwakeable(id, { approved: true });
    await ingress.resolveAwakeable(id);
    await ingress.rejectAwakeable(id, "denied");
    expect(api.awakeables).toEqual([
      { id, completion: { kind: "value", value: '{"approved":true}' } },
      { id, completion: { kind: "value", value: "" } },
      { id, completion: { kind: "failure", failure: { code: 500, message: "denied" } } },
    ]);
  });

  it("surfaces failures as HttpCallError with the failure's status and Restate's body shape", async () => {
    api.handlers.set("Greeter/greet", () => ({
      kind: "failure",
      failure: { code: 422, message: "bad name", metadata: { field: "name" } },
    }));
    const error = await ingress
      .serviceClient<Greeter>({ name: "Greeter" })
      .greet("x")
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(clients.HttpCallError);
    const { status, responseText } = error as clients.HttpCallError;
    expect(status).toBe(422);
    // Restate's top-level code, message and metadata; Capstan's stable code beside them.
    expect(JSON.parse(responseText)).toMatchObject({
      code: 422,
      message: "bad name",
      metadata: { field: "name" },
      capstanCode: "INGRESS_INVOCATION_FAILED",
    });
  });
});
