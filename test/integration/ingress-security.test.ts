/**
 * What the ingress lets outsiders do, on a real runtime over HTTP: ingress-private services and
 * handlers are refused (403) yet callable from other handlers, and caller credentials are never
 * recorded with the invocation nor shown by the admin API.
 */
import { handlers, object, service } from "@capstan/sdk";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

type Ledger = { record: (ctx: unknown, amount: number) => Promise<number> };
type Vault = { peek: (ctx: unknown) => Promise<string> };

const ledger = service({
  name: "Ledger",
  options: { ingressPrivate: true },
  handlers: {
    record: async (_ctx, amount: number) => amount * 100,
    // A handler's own option wins over its service's.
    status: handlers.handler({ ingressPrivate: false }, async () => "open"),
  },
});

const vault = object({
  name: "Vault",
  handlers: {
    peek: handlers.object.exclusive({ ingressPrivate: true }, async () => "secret"),
    put: async (ctx, v: string) => ctx.set("v", v),
  },
});

const shop = service({
  name: "Shop",
  handlers: {
    buy: async (ctx, amount: number) => {
      const cents = await ctx.serviceClient<Ledger>({ name: "Ledger" }).record(amount);
      const peek = await ctx.objectClient<Vault>({ name: "Vault" }, "v1").peek();
      return { cents, peek };
    },
    echoHeaders: async (ctx) => ctx.request().headers,
  },
});

let env: TestEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment({ services: [ledger, vault, shop], time: "real" });
});
afterAll(async () => env.close());

function admin(path: string): Promise<Response> {
  return fetch(env.adminUrl + path, { headers: { authorization: `Bearer ${env.adminToken}` } });
}

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(env.ingressUrl + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

test("an ingress-private service or handler is 403 from outside and callable from a handler", async () => {
  for (const path of [
    "/Ledger/record",
    "/Ledger/record/send",
    "/Vault/v1/peek",
    "/restate/send/Vault/v1/peek",
  ]) {
    const res = await post(path, "1");
    expect([path, res.status, ((await res.json()) as { code: string }).code]).toEqual([
      path,
      403,
      "INGRESS_HANDLER_PRIVATE",
    ]);
  }
  expect(await (await post("/Ledger/status", "")).json()).toBe("open");
  expect(await (await post("/Vault/v1/put", '"x"')).text()).toBe("");
  const bought = await post("/Shop/buy", "3");
  expect([bought.status, await bought.json()]).toEqual([200, { cents: 300, peek: "secret" }]);
});

test("services list shows which services and handlers are private", async () => {
  const { services } = (await (await admin("/services")).json()) as {
    services: Array<{
      name: string;
      ingressPrivate?: boolean;
      handlers: Array<{ name: string; ingressPrivate?: boolean }>;
    }>;
  };
  const flags = Object.fromEntries(
    services.flatMap((s) =>
      s.handlers.map((h) => [`${s.name}/${h.name}`, [s.ingressPrivate ?? false, h.ingressPrivate ?? false]]),
    ),
  );
  expect(flags).toEqual({
    "Ledger/record": [true, true],
    "Ledger/status": [true, false],
    "Vault/peek": [false, true],
    "Vault/put": [false, false],
    "Shop/buy": [false, false],
    "Shop/echoHeaders": [false, false],
  });
});

test("caller credentials reach neither the handler, nor the journal, nor describe", async () => {
  const res = await post("/Shop/echoHeaders", "", {
    authorization: "Bearer s3cret-token",
    cookie: "session=s3cret-cookie",
    "x-api-key": "s3cret-key",
    "x-request-id": "r-1",
  });
  const id = res.headers.get("x-restate-id")!;
  const seen = (await res.json()) as Record<string, string>;
  expect(seen["x-request-id"]).toBe("r-1");
  const described = await (await admin(`/invocations/${id}`)).text();
  expect(described).toContain("r-1");
  for (const text of [JSON.stringify(seen), described]) expect(text).not.toMatch(/s3cret/);
});
