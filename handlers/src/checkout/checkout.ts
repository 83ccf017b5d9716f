/**
 * Checkout: a saga. Reserve the stock, charge the card; if the charge fails for good, release the
 * stock (the compensation) and fail the order. Each step is a `ctx.run`, so after a crash the handler
 * resumes after the last recorded step and never reserves or charges twice.
 *
 * On success it sends a one-way `clear` to the user's Cart object: the message leaves exactly once,
 * committed with the journal, even if this Lambda dies right after.
 */
import { isTerminalError, service, TerminalError, type Context } from "@capstan/sdk";
// Type-only: the Cart code is not bundled into this function; the runtime routes by name.
import type { cart } from "../cart/cart";
import { checkLineItem, totalCents, type LineItem } from "../shared/catalog";
import { inventory } from "../shared/fake-inventory";
import { payments } from "../shared/fake-payments";

/** Most lines in one order. */
export const MAX_ORDER_LINES = 50;

export interface Order {
  userId: string;
  items: LineItem[];
  card: string;
}

export interface Receipt {
  paymentId: string;
  userId: string;
  items: LineItem[];
  totalCents: number;
  status: "confirmed";
}

function checkOrder(order: Order): Order {
  if (
    typeof order !== "object" ||
    order === null ||
    typeof order.userId !== "string" ||
    order.userId === ""
  ) {
    throw new TerminalError("expected {userId, items, card}", { code: 400 });
  }
  if (!Array.isArray(order.items) || order.items.length === 0 || order.items.length > MAX_ORDER_LINES) {
    throw new TerminalError(`an order needs 1 to ${MAX_ORDER_LINES} items`, { code: 400 });
  }
  if (typeof order.card !== "string" || order.card === "")
    throw new TerminalError("card is required", { code: 400 });
  return { userId: order.userId, items: order.items.map(checkLineItem), card: order.card };
}

export const checkout = service({
  name: "Checkout",
  handlers: {
    /**
     * `POST /Checkout/placeOrder` with `{"userId","items":[{"sku","qty"}],"card"}` → a Receipt, or a
     * 402 when the card is declined (after the reservation was released). Send an `idempotency-key`
     * header to make a retried HTTP request return the first order instead of placing a second one.
     */
    async placeOrder(ctx: Context, input: Order): Promise<Receipt> {
      const order = checkOrder(input);
      const amountCents = totalCents(order.items);
      // Deterministic: the same id on every replay, so the provider's idempotency key holds.
      const paymentId = ctx.rand.uuidv4();

      await ctx.run("reserve-inventory", () => inventory.reserve(paymentId, order.items));
      try {
        await ctx.run(
          "charge-payment",
          () => payments.charge({ paymentId, card: order.card, amountCents }),
          // A gateway timeout is retried (with backoff, by the runtime); a decline is terminal at once.
          { maxAttempts: 5, initialIntervalMs: 1_000 },
        );
      } catch (e) {
        if (isTerminalError(e)) {
          await ctx.run("release-inventory", () => inventory.release(paymentId));
        }
        throw e;
      }

      ctx.objectSendClient<typeof cart>({ name: "Cart" }, order.userId).clear();
      return {
        paymentId,
        userId: order.userId,
        items: order.items,
        totalCents: amountCents,
        status: "confirmed",
      };
    },
  },
});
