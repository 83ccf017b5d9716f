/**
 * Runs `fn` over `items` with at most `limit` calls in flight; resolves when all have settled (the
 * callers handle their own failures, so one rejection does not stop the others).
 *
 * @example
 * await mapLimit(functions, 4, (fn) => build(fn)); // four esbuild builds at a time
 */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
