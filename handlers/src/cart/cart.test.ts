import path from "node:path";
import { InvocationFailedError, startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { checkout, type Receipt } from "../checkout/checkout";
import { DECLINED_CARD, GOOD_CARD, payments } from "../shared/fake-payments";
import { expectGoldenJournal } from "../shared/test-support/golden-journal";
import { cart, type CartView } from "./cart";

describe.each([false, true])("Cart (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [cart, checkout], alwaysReplay });
  });
  afterAll(async () => env.close());

  test("add merges quantities, remove drops a line, get reads without writing", async () => {
    const key = `ada-${alwaysReplay}`;

    await env.call("Cart", "add", { sku: "book-durable-execution", qty: 1 }, { key });
    await env.call("Cart", "add", { sku: "mug-capstan", qty: 2 }, { key });
    const merged = await env.call<CartView>("Cart", "add", { sku: "mug-capstan", qty: 1 }, { key });
    await env.call("Cart", "remove", "sticker-pack", { key }); // absent: no-op
    const afterRemove = await env.call<CartView>("Cart", "remove", "book-durable-execution", { key });
    const unknownSku = await env
      .call("Cart", "add", { sku: "nope", qty: 1 }, { key })
      .catch((e: unknown) => e);

    expect(merged.items).toEqual([
      { sku: "book-durable-execution", qty: 1 },
      { sku: "mug-capstan", qty: 3 },
    ]);
    expect(afterRemove).toEqual({ items: [{ sku: "mug-capstan", qty: 3 }], totalCents: 3_750 });
    await expect(env.call("Cart", "get", undefined, { key })).resolves.toEqual(afterRemove);
    expect(await env.state("Cart", key)).toEqual({ items: { "mug-capstan": 3 } });
    expect(unknownSku).toBeInstanceOf(InvocationFailedError);
    expect(unknownSku).toMatchObject({ code: 400 });
  });

  test("concurrent adds to one cart are serialized: none is lost", async () => {
    const key = `busy-${alwaysReplay}`;

    const views = await Promise.all(
      Array.from({ length: 10 }, () =>
        env.call<CartView>("Cart", "add", { sku: "sticker-pack", qty: 1 }, { key }),
      ),
    );

    expect(views.map((v) => v.items[0]!.qty).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await env.state("Cart", key)).toEqual({ items: { "sticker-pack": 10 } });
  });

  test("checkout places the order through Checkout and empties the cart", async () => {
    const key = `grace-${alwaysReplay}`;
    await env.call("Cart", "add", { sku: "mug-capstan", qty: 2 }, { key });

    const id = await env.send("Cart", "checkout", { card: GOOD_CARD }, { key });
    const receipt = await env.result<Receipt>(id);

    expect(receipt).toMatchObject({ userId: key, totalCents: 2_500, status: "confirmed" });
    expect(payments.charges().filter((c) => c.paymentId === receipt.paymentId)).toHaveLength(1);
    await env.settle(); // Checkout's one-way `clear` arrives after; it finds the cart already empty
    expect(await env.state("Cart", key)).toEqual({ lastOrder: receipt });
    expectGoldenJournal(await env.journal(id), path.join(__dirname, "fixtures/checkout.journal.json"), {
      [key]: "<user>",
    });
  });

  test("a declined card fails checkout with 402 and keeps the cart", async () => {
    const key = `declined-${alwaysReplay}`;
    await env.call("Cart", "add", { sku: "sticker-pack", qty: 3 }, { key });

    const err = await env.call("Cart", "checkout", { card: DECLINED_CARD }, { key }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvocationFailedError);
    expect(err).toMatchObject({ code: 402, message: expect.stringContaining("card declined") });
    expect(await env.state("Cart", key)).toEqual({ items: { "sticker-pack": 3 } });
  });
});
