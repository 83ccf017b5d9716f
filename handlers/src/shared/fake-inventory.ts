/**
 * An in-memory stand-in for a warehouse API. Like a real one it is idempotent per reservation id, so a
 * `ctx.run` retried after a crash does not reserve twice. It records every call so tests can assert
 * what the saga did (and that compensation ran exactly once).
 */
import type { LineItem } from "./catalog";

export interface InventoryCall {
  op: "reserve" | "release";
  reservationId: string;
}

const reservations = new Map<string, LineItem[]>();
const calls: InventoryCall[] = [];

export const inventory = {
  /** Holds `items` under `reservationId`; reserving the same id again is a no-op. */
  async reserve(reservationId: string, items: readonly LineItem[]): Promise<{ reservationId: string }> {
    calls.push({ op: "reserve", reservationId });
    if (!reservations.has(reservationId))
      reservations.set(
        reservationId,
        items.map((i) => ({ ...i })),
      );
    return { reservationId };
  },

  /** Returns the reserved items to stock; releasing an unknown or released id is a no-op. */
  async release(reservationId: string): Promise<void> {
    calls.push({ op: "release", reservationId });
    reservations.delete(reservationId);
  },

  /** What is held right now, by reservation id. */
  reserved(reservationId: string): LineItem[] | undefined {
    return reservations.get(reservationId);
  },

  /** Every call so far, optionally only those of one reservation. */
  calls(reservationId?: string): InventoryCall[] {
    return calls.filter((c) => reservationId === undefined || c.reservationId === reservationId);
  },
};
