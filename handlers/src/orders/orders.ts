/**
 * Orders: fan-out and fan-in. `fulfil` asks the Warehouse service to pick every line of an order at
 * once (one durable call each) and waits for all of them with `CapstanPromise.all`: the SDK knows
 * every call the handler waits on, so on Lambda it suspends once for all of them instead of once per
 * call, and a replay reuses the recorded results.
 */
import { CapstanPromise, service, TerminalError, type Context } from "@capstan/sdk";
import { checkLineItem, type LineItem } from "../shared/catalog";

/** Most lines picked in parallel for one order. */
export const MAX_PARALLEL_PICKS = 20;

export interface Pick extends LineItem {
  bin: string;
}

export interface PackingSlip {
  orderId: string;
  picks: Pick[];
}

let picks = 0;

/** How many picks the Warehouse made in this process (to prove each ran once). */
export function pickCount(): number {
  return picks;
}

export const warehouse = service({
  name: "Warehouse",
  handlers: {
    /** Picks one line; the bin stands in for a warehouse system's answer. */
    async pick(ctx: Context, line: LineItem): Promise<Pick> {
      const item = checkLineItem(line);
      const bin = await ctx.run("locate-bin", () => {
        picks++;
        return `bin-${item.sku.length % 7}-${item.qty}`;
      });
      return { ...item, bin };
    },
  },
});

export const orders = service({
  name: "Orders",
  handlers: {
    /** `POST /Orders/fulfil` with `{"orderId","items":[{"sku","qty"}]}` → the packing slip. */
    async fulfil(ctx: Context, order: { orderId: string; items: LineItem[] }): Promise<PackingSlip> {
      if (
        !Array.isArray(order?.items) ||
        order.items.length === 0 ||
        order.items.length > MAX_PARALLEL_PICKS
      ) {
        throw new TerminalError(`an order needs 1 to ${MAX_PARALLEL_PICKS} items`, { code: 400 });
      }
      const wh = ctx.serviceClient(warehouse);
      const picked = await CapstanPromise.all(order.items.map((line) => wh.pick(line)));
      return { orderId: order.orderId, picks: picked };
    },
  },
});
