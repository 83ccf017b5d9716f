import { TerminalError } from "@capstan/sdk";

/** A line of a cart or an order. */
export interface LineItem {
  sku: string;
  qty: number;
}

/**
 * The shop's price list, in cents. A real shop would read it from a database inside `ctx.run`; a
 * constant keeps the examples deterministic without one.
 */
export const PRICES_CENTS: Readonly<Record<string, number>> = {
  "book-durable-execution": 3_900,
  "mug-capstan": 1_250,
  "sticker-pack": 400,
  "espresso-machine": 89_900,
};

/** Largest quantity of one SKU in one cart: a limit, so a typo cannot order a million mugs. */
export const MAX_QTY_PER_SKU = 99;

/**
 * Validates a line item; a bad one is the caller's mistake, so it is a TerminalError (400) that the
 * runtime never retries.
 *
 * @example
 * checkLineItem({ sku: "mug-capstan", qty: 2 }); // ok; { sku: "?", qty: 1 } throws a 400
 */
export function checkLineItem(item: LineItem): LineItem {
  if (typeof item !== "object" || item === null)
    throw new TerminalError("expected {sku, qty}", { code: 400 });
  if (PRICES_CENTS[item.sku] === undefined) {
    throw new TerminalError(`unknown sku ${JSON.stringify(item.sku)}`, { code: 400 });
  }
  if (!Number.isInteger(item.qty) || item.qty < 1 || item.qty > MAX_QTY_PER_SKU) {
    throw new TerminalError(`qty must be an integer from 1 to ${MAX_QTY_PER_SKU}`, { code: 400 });
  }
  return { sku: item.sku, qty: item.qty };
}

/** Total price of `items` in cents (items must have been checked). */
export function totalCents(items: readonly LineItem[]): number {
  return items.reduce((sum, { sku, qty }) => sum + (PRICES_CENTS[sku] ?? 0) * qty, 0);
}
