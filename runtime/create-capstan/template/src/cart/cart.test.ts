import { startTestEnvironment } from "@capstan/runtime/testing";
import { cart } from "./cart";

test("keeps one cart per key, and an idempotency key adds once", async () => {
  const env = await startTestEnvironment({ services: [cart] });
  try {
    await env.call("Cart", "add", { sku: "mug", qty: 1 }, { key: "ada" });
    await env.call("Cart", "add", { sku: "mug", qty: 2 }, { key: "ada", idempotencyKey: "k1" });
    await env.call("Cart", "add", { sku: "mug", qty: 2 }, { key: "ada", idempotencyKey: "k1" });
    expect(await env.call("Cart", "get", undefined, { key: "ada" })).toEqual([{ sku: "mug", qty: 3 }]);
    expect(await env.call("Cart", "get", undefined, { key: "bob" })).toEqual([]);
  } finally {
    await env.close();
  }
});
