import path from "node:path";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { expectGoldenJournal } from "../shared/test-support/golden-journal";
import { orders, pickCount, warehouse, type PackingSlip } from "./orders";

describe.each([false, true])("Orders (alwaysReplay=%s)", (alwaysReplay) => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ services: [orders, warehouse], alwaysReplay });
  });
  afterAll(async () => env.close());

  test("fulfil picks every line in parallel, once each, in order", async () => {
    const before = pickCount();
    const items = [
      { sku: "book-durable-execution", qty: 1 },
      { sku: "mug-capstan", qty: 2 },
      { sku: "sticker-pack", qty: 3 },
    ];

    const id = await env.send("Orders", "fulfil", { orderId: "o-1", items });
    const slip = await env.result<PackingSlip>(id);

    expect(slip).toEqual({
      orderId: "o-1",
      picks: [
        { sku: "book-durable-execution", qty: 1, bin: "bin-1-1" },
        { sku: "mug-capstan", qty: 2, bin: "bin-4-2" },
        { sku: "sticker-pack", qty: 3, bin: "bin-5-3" },
      ],
    });
    expect(pickCount()).toBe(before + 3);
    // The three calls are journaled before any result: they ran concurrently.
    expect((await env.journal(id)).map((e) => e.kind)).toEqual(["input", "call", "call", "call", "output"]);
    expectGoldenJournal(await env.journal(id), path.join(__dirname, "fixtures/fulfil.journal.json"));
  });

  test("an unknown sku fails the whole order with the Warehouse's 400", async () => {
    const err = await env
      .call("Orders", "fulfil", {
        orderId: "o-2",
        items: [
          { sku: "mug-capstan", qty: 1 },
          { sku: "?", qty: 1 },
        ],
      })
      .catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 400, message: expect.stringContaining("unknown sku") });
  });
});
