/**
 * Cart: a virtual object, one cart per key (`POST /Cart/{userId}/add`). Exclusive handlers on one key
 * run one at a time, and state writes commit with the journal: no lost update, no double count.
 */
import { object, shared, TerminalError, type ObjectContext, type ObjectSharedContext } from "@capstan/sdk";

/** Most distinct items in one cart. */
export const MAX_ITEMS = 50;

export interface Item {
  sku: string;
  qty: number;
}

export const cart = object({
  name: "Cart",
  handlers: {
    /** Adds `qty` of `sku`; returns the cart. */
    async add(ctx: ObjectContext, item: Item): Promise<Item[]> {
      if (typeof item?.sku !== "string" || !Number.isInteger(item.qty) || item.qty < 1) {
        throw new TerminalError("expected { sku: string, qty: positive integer }", { code: 400 });
      }
      const items = (await ctx.get<Item[]>("items")) ?? [];
      const existing = items.find((i) => i.sku === item.sku);
      if (existing) existing.qty += item.qty;
      else if (items.length >= MAX_ITEMS)
        throw new TerminalError(`at most ${MAX_ITEMS} items`, { code: 400 });
      else items.push({ sku: item.sku, qty: item.qty });
      ctx.set("items", items);
      return items;
    },
    /** Reads the cart; shared handlers run concurrently and cannot write. */
    get: shared(async (ctx: ObjectSharedContext): Promise<Item[]> => (await ctx.get<Item[]>("items")) ?? []),
  },
});
