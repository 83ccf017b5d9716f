import type { EagerState, Payload } from "../protocol";

/**
 * The handler's view of its object's K/V state: eager state from the request, then this attempt's writes.
 * `undefined` from `lookup` means unknown (fetch lazily through a getState entry); `null` means absent.
 */
export class StateView {
  private readonly values = new Map<string, Payload | null>();
  private complete: boolean;

  constructor(eager: EagerState | undefined) {
    this.complete = eager?.complete ?? false;
    for (const [k, v] of Object.entries(eager?.values ?? {})) this.values.set(k, v);
  }

  lookup(key: string): Payload | null | undefined {
    const v = this.values.get(key);
    if (v !== undefined) return v;
    return this.complete ? null : undefined;
  }

  /** Sorted key names, or undefined when the view is partial. */
  keys(): string[] | undefined {
    if (!this.complete) return undefined;
    return [...this.values]
      .filter(([, v]) => v !== null)
      .map(([k]) => k)
      .sort();
  }

  set(key: string, value: Payload): void {
    this.values.set(key, value);
  }
  clear(key: string): void {
    this.values.set(key, null);
  }
  clearAll(): void {
    this.values.clear();
    this.complete = true;
  }
}
