/** Port: time. The processor stamps records with it; `apply` never reads it. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
