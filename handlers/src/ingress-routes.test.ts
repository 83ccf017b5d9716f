/**
 * The requests handlers/README.md tells users to try with curl, sent over real HTTP to the ingress
 * of an embedded runtime serving every example, so the README's routes and bodies stay true.
 * (The runtime is the test kit's, with a manual clock the test moves, instead of `npm start`.)
 */
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { cart } from "./cart/cart";
import { checkout } from "./checkout/checkout";
import { counter } from "./counter/counter";
import { greeter } from "./greeter/greeter";
import { middyGreeter } from "./middy-greeter/middy-greeter";
import { orders, warehouse } from "./orders/orders";
import { DECLINED_CARD, GOOD_CARD } from "./shared/fake-payments";
import { mailer } from "./shared/fake-mailer";
import { signup } from "./signup/signup";

let env: TestEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment({
    services: [greeter, counter, cart, checkout, signup, middyGreeter, orders, warehouse],
    time: "manual",
  });
});
afterAll(async () => env.close());

interface Reply {
  status: number;
  body: unknown;
}

/** Like `curl -X POST $INGRESS$path -H 'content-type: application/json' -d "$body"`. */
async function post(path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(env.ingressUrl + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined && { body }),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

async function get(path: string): Promise<Reply> {
  const res = await fetch(env.ingressUrl + path);
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

/**
 * Awaits an HTTP request while skipping time: whenever the runtime is quiet with a timer scheduled,
 * the manual clock jumps to it (what `env.result` does, for requests that come in over HTTP).
 */
async function skippingTime<T>(request: Promise<T>, maxRounds = 500): Promise<T> {
  let done = false;
  const settled = request.finally(() => (done = true));
  for (let round = 0; !done && round < maxRounds; round++) {
    await env.settle();
    const next = env.runtime.timers.nextFireAtMs();
    if (next !== undefined) await env.advanceTime(Math.max(0, next - env.clock!.nowMs()));
    else await new Promise((r) => setTimeout(r, 2)); // the request is still on its way over HTTP
  }
  return settled;
}

test("Greeter: greet, and greetLater sent then attached", async () => {
  const greet = await skippingTime(post("/Greeter/greet", '"Ada"'));
  const sent = await post("/Greeter/greetLater/send", '"Ada"');
  const id = (sent.body as { invocationId: string }).invocationId;
  const later = await skippingTime(get(`/restate/invocation/${id}/attach`));

  expect(greet).toEqual({ status: 200, body: "Hello, Ada!" });
  expect(sent).toMatchObject({ status: 202, body: { status: "Accepted" } });
  expect(later).toEqual({ status: 200, body: "Hello, Ada!" });
});

test("Counter and Cart: keyed routes", async () => {
  expect(await post("/Counter/alice/add", "5")).toEqual({ status: 200, body: 5 });
  expect(await post("/Counter/alice/get")).toEqual({ status: 200, body: 5 });

  await post("/Cart/ada/add", '{"sku":"mug-capstan","qty":2}');
  await post("/Cart/ada/add", '{"sku":"sticker-pack","qty":1}');
  await post("/Cart/ada/remove", '"sticker-pack"');
  expect(await post("/Cart/ada/get")).toEqual({
    status: 200,
    body: { items: [{ sku: "mug-capstan", qty: 2 }], totalCents: 2_500 },
  });
  const receipt = await post("/Cart/ada/checkout", `{"card":"${GOOD_CARD}"}`);
  expect(receipt).toMatchObject({
    status: 200,
    body: { userId: "ada", totalCents: 2_500, status: "confirmed" },
  });
  expect(await post("/Cart/ada/get")).toEqual({ status: 200, body: { items: [], totalCents: 0 } });
});

test("Checkout: idempotency-key header, and a declined card as HTTP 402", async () => {
  const order = `{"userId":"bob","items":[{"sku":"book-durable-execution","qty":1}],"card":"${GOOD_CARD}"}`;
  const declined = `{"userId":"bob","items":[{"sku":"book-durable-execution","qty":1}],"card":"${DECLINED_CARD}"}`;

  const first = await post("/Checkout/placeOrder", order, { "idempotency-key": "order-42" });
  const again = await post("/Checkout/placeOrder", order, { "idempotency-key": "order-42" });
  const refused = await post("/Checkout/placeOrder", declined);

  expect(first).toMatchObject({ status: 200, body: { status: "confirmed", totalCents: 3_900 } });
  expect(again).toEqual(first);
  expect(refused).toMatchObject({ status: 402, body: { failure: { code: 402, message: "card declined" } } });
});

test("Signup: run/send, status, verify, then attach to the workflow", async () => {
  const sent = await post("/Signup/signup-1/run/send", '"ada@example.com"');
  await env.settle();
  const status = await post("/Signup/signup-1/status");
  const code = /\d{6}/.exec(mailer.sent("ada@example.com")[0]!.body)![0];
  const verified = await post("/Signup/signup-1/verify", JSON.stringify(code));
  const result = await get("/restate/workflow/Signup/signup-1/attach");

  expect(sent.status).toBe(202);
  expect(status).toEqual({ status: 200, body: { email: "ada@example.com", status: "pending" } });
  expect(verified).toEqual({ status: 200, body: "verified" });
  expect(result).toEqual({ status: 200, body: { email: "ada@example.com", status: "verified" } });
});

test("MiddyGreeter: greet", async () => {
  expect(await skippingTime(post("/MiddyGreeter/greet", '"Ada"'))).toEqual({
    status: 200,
    body: "Hello from middy, Ada!",
  });
});

test("Orders: fan-out", async () => {
  const slip = await post(
    "/Orders/fulfil",
    '{"orderId":"o-1","items":[{"sku":"mug-capstan","qty":2},{"sku":"sticker-pack","qty":1}]}',
  );

  expect(slip).toMatchObject({
    status: 200,
    body: { orderId: "o-1", picks: [{ sku: "mug-capstan" }, { sku: "sticker-pack" }] },
  });
});
