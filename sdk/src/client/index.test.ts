import type { IncomingMessage, Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { object, service, workflow } from "../index";
import { connect, isIngressError } from "./index";

const greeter = service({ name: "Greeter", handlers: { greet: async (_ctx, name: string) => `hi ${name}` } });
const counter = object({ name: "Counter", handlers: { add: async (_ctx, n: number) => n } });
const signup = workflow({
  name: "Signup",
  handlers: { run: async (_ctx, email: string) => email.length, confirm: async () => true },
});

interface Seen {
  method: string;
  url: string;
  body: string;
  idempotencyKey: string | undefined;
}

describe("ingress client against a real HTTP server", () => {
  const seen: Seen[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        seen.push({
          method: req.method!,
          url: req.url!,
          body,
          idempotencyKey: req.headers["idempotency-key"] as string | undefined,
        });
        const u = req.url!;
        const json = (status: number, v: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(v === undefined ? "" : JSON.stringify(v));
        };
        if (u.includes("/send")) return json(202, { invocationId: "inv_1_sentsent01", status: "Accepted" });
        if (u === "/Greeter/greet")
          return json(200, `hi ${JSON.parse(body)}`, { "x-restate-id": "inv_1_callcall01" });
        if (u === "/Counter/a/add") return json(200, JSON.parse(body));
        if (u.endsWith("/output") && u.includes("pending"))
          return json(470, { code: "NOT_READY", message: "not ready" });
        if (u.endsWith("/attach") || u.endsWith("/output")) return json(200, 7);
        if (u.startsWith("/restate/awakeables/")) return json(202, undefined);
        return json(404, { code: "INGRESS_NOT_FOUND", message: `no ${u}` });
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test("typed calls and sends use Restate-compatible paths and headers", async () => {
    const client = connect({ url });
    const greeting: string = await client.serviceClient(greeter).greet("bob", { idempotencyKey: "k1" });
    const n: number = await client.objectClient(counter, "a").add(3);
    const sent = await client.objectSendClient(counter, "a").add(1, { delay: { seconds: 10 } });
    const submitted = await client.workflowClient(signup, "wf 1").workflowSubmit("a@b.c");
    const attached: number = await client.workflowClient(signup, "wf 1").workflowAttach();

    expect(greeting).toBe("hi bob");
    expect(n).toBe(3);
    expect(sent).toMatchObject({ invocationId: "inv_1_sentsent01", status: "Accepted", deduplicated: false });
    expect(submitted.invocationId).toBe("inv_1_sentsent01");
    expect(attached).toBe(7);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "POST /Greeter/greet",
      "POST /Counter/a/add",
      "POST /Counter/a/add/send?delay=10000ms",
      "POST /Signup/wf%201/run/send",
      "GET /restate/workflow/Signup/wf%201/attach",
    ]);
    expect(seen[0]!.idempotencyKey).toBe("k1");
  });

  test("attach, output, awakeables and errors", async () => {
    const client = connect({ url });
    expect(await client.attach<number>("inv_1_abcdefgh")).toBe(7);
    expect(await client.output<number>("inv_1_abcdefgh")).toEqual({ ready: true, value: 7 });
    expect(await client.output<number>("pending")).toEqual({ ready: false });
    await client.resolveAwakeable("awk_1", { ok: true });
    await client.rejectAwakeable("awk_2", "no");
    expect(seen.slice(-2).map((s) => [s.url, s.body])).toEqual([
      ["/restate/awakeables/awk_1/resolve", '{"ok":true}'],
      ["/restate/awakeables/awk_2/reject", "no"],
    ]);
    const err = await client
      .serviceClient<{ nope: () => Promise<void> }>({ name: "Missing" })
      .nope()
      .catch((e: unknown) => e);
    expect(isIngressError(err)).toBe(true);
    expect(err).toMatchObject({ status: 404, code: "INGRESS_NOT_FOUND" });
  });
});
