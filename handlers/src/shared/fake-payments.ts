/**
 * An in-memory stand-in for a card payment provider, with the behaviours a saga must handle:
 *
 * - card `4000-0000-0000-0002` is declined, and amounts above {@link MAX_CHARGE_CENTS} are refused:
 *   both are TerminalErrors (402), because retrying cannot make them succeed;
 * - card `4000-0000-0000-0119` times out on its first attempt (a plain Error, so Capstan retries the
 *   step) and succeeds on the next one;
 * - charges are idempotent per payment id, as with real providers' idempotency keys.
 *
 * Every attempt and every charge is recorded so tests can count them.
 */
import { TerminalError } from "@capstan/sdk";

export const DECLINED_CARD = "4000-0000-0000-0002";
export const FLAKY_CARD = "4000-0000-0000-0119";
export const GOOD_CARD = "4242-4242-4242-4242";
/** The provider's per-charge limit: $1,000.00. */
export const MAX_CHARGE_CENTS = 100_000;

export interface ChargeRequest {
  paymentId: string;
  card: string;
  amountCents: number;
}

export interface Charge extends ChargeRequest {
  status: "captured";
}

const charges = new Map<string, Charge>();
const attempts: ChargeRequest[] = [];

export const payments = {
  /** Charges the card once per payment id; a repeated id returns the first charge. */
  async charge(request: ChargeRequest): Promise<Charge> {
    attempts.push({ ...request });
    const existing = charges.get(request.paymentId);
    if (existing) return existing;
    if (request.card === DECLINED_CARD) {
      throw new TerminalError("card declined", { code: 402, metadata: { reason: "card_declined" } });
    }
    if (request.amountCents > MAX_CHARGE_CENTS) {
      throw new TerminalError(`amount ${request.amountCents} exceeds the ${MAX_CHARGE_CENTS} limit`, {
        code: 402,
        metadata: { reason: "amount_too_large" },
      });
    }
    if (
      request.card === FLAKY_CARD &&
      attempts.filter((a) => a.paymentId === request.paymentId).length === 1
    ) {
      throw new Error("payment gateway timed out");
    }
    const charge: Charge = { ...request, status: "captured" };
    charges.set(request.paymentId, charge);
    return charge;
  },

  /** Successful charges, optionally only those of one card. */
  charges(card?: string): Charge[] {
    return [...charges.values()].filter((c) => card === undefined || c.card === card);
  },

  /** Every attempt, failed or not, optionally only those of one payment id. */
  attempts(paymentId?: string): ChargeRequest[] {
    return attempts.filter((a) => paymentId === undefined || a.paymentId === paymentId);
  },
};
