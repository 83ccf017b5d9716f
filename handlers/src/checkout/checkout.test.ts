import path from "node:path";
import { InvocationFailedError, startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { cart } from "../cart/cart";
import { inventory } from "../shared/fake-inventory";
import { DECLINED_CARD, FLAKY_CARD, GOOD_CARD, payments } from "../shared/fake-payments";
import { expectGoldenJournal } from "../shared/test-support/golden-journal";
import { checkout, type Order, type Receipt } from "./checkout";

/** Polls until `check` passes; settle() lets in-flight messages land without skipping time. */
async function eventually(env: TestEnvironment, check: () => Promise<boolean>, rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await check()) return;
    await env.settle();
  }
  throw new Error("condition not reached");
}

/** The payment id of the order whose last reservation call was made for `items` — read from the fake. */
function lastReservationId(): string {
  return inventory.calls().at(-1)!.reservationId;
}

describe.each([false, true])("Checkout (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [checkout, cart], alwaysReplay });
  });
  afterAll(async () => env.close());

  const order = (userId: string, card = GOOD_CARD): Order => ({
    userId,
    items: [
      { sku: "book-durable-execution", qty: 1 },
      { sku: "sticker-pack", qty: 2 },
    ],
    card,
  });

  test("success: reserves and charges once, then clears the user's cart with a one-way message", async () => {
    const userId = `ok-${alwaysReplay}`;
    await env.call("Cart", "add", { sku: "mug-capstan", qty: 1 }, { key: userId });

    const id = await env.send("Checkout", "placeOrder", order(userId));
    const receipt = await env.result<Receipt>(id);

    expect(receipt).toEqual({
      paymentId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      userId,
      items: order(userId).items,
      totalCents: 4_700,
      status: "confirmed",
    });
    expect(payments.attempts(receipt.paymentId)).toHaveLength(1);
    expect(payments.charges().filter((c) => c.paymentId === receipt.paymentId)).toEqual([
      { paymentId: receipt.paymentId, card: GOOD_CARD, amountCents: 4_700, status: "captured" },
    ]);
    expect(inventory.calls(receipt.paymentId).map((c) => c.op)).toEqual(["reserve"]);
    await eventually(env, async () => (await env.state("Cart", userId)).items === undefined);
    expectGoldenJournal(await env.journal(id), path.join(__dirname, "fixtures/place-order.journal.json"), {
      [userId]: "<user>",
    });
  });

  test("a declined card: compensation runs exactly once and the caller sees the 402", async () => {
    const userId = `declined-${alwaysReplay}`;
    await env.call("Cart", "add", { sku: "mug-capstan", qty: 1 }, { key: userId });

    const id = await env.send("Checkout", "placeOrder", order(userId, DECLINED_CARD));
    const err = await env.result(id).catch((e: unknown) => e);
    const paymentId = lastReservationId();

    expect(err).toBeInstanceOf(InvocationFailedError);
    expect(err).toMatchObject({ code: 402, message: expect.stringContaining("card declined") });
    expect(inventory.calls(paymentId).map((c) => c.op)).toEqual(["reserve", "release"]);
    expect(inventory.reserved(paymentId)).toBeUndefined();
    expect(payments.charges(DECLINED_CARD)).toEqual([]);
    await env.settle();
    expect(await env.state("Cart", userId)).toEqual({ items: { "mug-capstan": 1 } }); // no clear sent
    expectGoldenJournal(
      await env.journal(id),
      path.join(__dirname, "fixtures/place-order-declined.journal.json"),
      {
        [userId]: "<user>",
      },
    );
  });

  test("an amount over the provider's limit is refused terminally and compensated", async () => {
    const userId = `big-${alwaysReplay}`;
    const big: Order = { userId, items: [{ sku: "espresso-machine", qty: 2 }], card: GOOD_CARD };

    const err = await env.call("Checkout", "placeOrder", big).catch((e: unknown) => e);
    const paymentId = lastReservationId();

    expect(err).toMatchObject({ code: 402, message: expect.stringContaining("exceeds") });
    expect(inventory.calls(paymentId).map((c) => c.op)).toEqual(["reserve", "release"]);
  });

  test("the same idempotency key twice places one order and charges once", async () => {
    const userId = `idem-${alwaysReplay}`;
    const idempotencyKey = `order-${userId}`;

    const first = await env.call<Receipt>("Checkout", "placeOrder", order(userId), { idempotencyKey });
    const second = await env.call<Receipt>("Checkout", "placeOrder", order(userId), { idempotencyKey });

    expect(second).toEqual(first);
    expect(payments.attempts(first.paymentId)).toHaveLength(1);
    expect(inventory.calls(first.paymentId)).toHaveLength(1);
  });

  test("a gateway timeout is retried by the runtime and charges once", async () => {
    const userId = `flaky-${alwaysReplay}`;

    const receipt = await env.call<Receipt>("Checkout", "placeOrder", order(userId, FLAKY_CARD));

    expect(receipt.status).toBe("confirmed");
    expect(payments.attempts(receipt.paymentId)).toHaveLength(2);
    expect(payments.charges().filter((c) => c.paymentId === receipt.paymentId)).toHaveLength(1);
    expect(inventory.calls(receipt.paymentId).map((c) => c.op)).toEqual(["reserve"]);
  });

  test("an invalid order is a 400 before anything is reserved", async () => {
    const before = inventory.calls().length;

    const err = await env
      .call("Checkout", "placeOrder", { userId: "x", items: [], card: GOOD_CARD })
      .catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 400 });
    expect(inventory.calls()).toHaveLength(before);
  });
});
