/**
 * Cart: a virtual object keyed by user id (`/Cart/{userId}/...`). Its state lives with the runtime,
 * committed atomically with each handler's journal; exclusive handlers on one cart run one at a time,
 * so two tabs adding items concurrently both count. `get` is shared: it never queues behind them.
 *
 * `checkout` calls the Checkout service (a durable call: the result is recorded, and a crash here
 * does not place the order twice) and empties the cart once the order is confirmed.
 */
import { object, shared, TerminalError, type ObjectContext, type ObjectSharedContext } from "@capstan/sdk";
// Type-only: the Checkout code is not bundled into this function; the runtime routes by name.
import type { checkout, Receipt } from "../checkout/checkout";
import { checkLineItem, totalCents, type LineItem } from "../shared/catalog";

/** Most distinct SKUs in one cart. */
export const MAX_CART_LINES = 50;

export interface CartView {
  items: LineItem[];
  totalCents: number;
}

type Lines = Record<string, number>;

function view(lines: Lines): CartView {
  const items = Object.entries(lines).map(([sku, qty]) => ({ sku, qty }));
  return { items, totalCents: totalCents(items) };
}

async function lines(ctx: ObjectSharedContext): Promise<Lines> {
  return (await ctx.get<Lines>("items")) ?? {};
}

export const cart = object({
  name: "Cart",
  handlers: {
    /** Adds `qty` of `sku` (merging with what is there) and returns the cart. */
    async add(ctx: ObjectContext, item: LineItem): Promise<CartView> {
      const { sku, qty } = checkLineItem(item);
      const current = await lines(ctx);
      if (current[sku] === undefined && Object.keys(current).length >= MAX_CART_LINES) {
        throw new TerminalError(`a cart holds at most ${MAX_CART_LINES} different items`, { code: 400 });
      }
      const next = { ...current, [sku]: (current[sku] ?? 0) + qty };
      checkLineItem({ sku, qty: next[sku]! }); // the merged quantity must stay within the limit too
      ctx.set("items", next);
      return view(next);
    },

    /** Removes the SKU entirely (no-op when absent) and returns the cart. */
    async remove(ctx: ObjectContext, sku: string): Promise<CartView> {
      const { [sku]: _removed, ...rest } = await lines(ctx);
      if (Object.keys(rest).length === 0) ctx.clear("items");
      else ctx.set("items", rest);
      return view(rest);
    },

    /** Places the order with the cart's content; the cart is empty once this returns. */
    async checkout(ctx: ObjectContext, payment: { card: string }): Promise<Receipt> {
      const { items } = view(await lines(ctx));
      if (items.length === 0) throw new TerminalError("the cart is empty", { code: 400 });
      // A TerminalError from Checkout (e.g. a 402 decline) propagates to our caller; the cart is kept.
      const receipt = await ctx
        .serviceClient<(typeof checkout)["handlers"]>({ name: "Checkout" })
        .placeOrder({ userId: ctx.key, items, card: payment?.card });
      ctx.clear("items");
      ctx.set("lastOrder", receipt);
      return receipt;
    },

    /** Empties the cart. Checkout sends it after a successful order placed from outside the cart too. */
    async clear(ctx: ObjectContext): Promise<void> {
      ctx.clear("items");
    },

    /** The cart's content and total. */
    get: shared(async (ctx: ObjectSharedContext): Promise<CartView> => view(await lines(ctx))),
  },
});
