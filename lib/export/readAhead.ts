/**
 * Starts `start(item)` for up to `depth` items ahead of the consumer and yields the results in the items' order: the
 * latency of each start (an HTTP request's first byte) overlaps the consumption of the ones before it, while no more
 * than `depth` are ever open. A rejected start is rethrown when its turn comes, never left unhandled.
 */
export async function* readAhead<T, R>(
  items: AsyncIterable<T> | Iterable<T>,
  depth: number,
  start: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  if (!Number.isSafeInteger(depth) || depth < 1)
    throw new RangeError(`readAhead: depth must be a positive integer, got ${depth}`);
  const pending: Promise<R>[] = [];
  const begin = (item: T): void => {
    const started = start(item);
    // Observed later, in order; without this a rejection that arrives before its turn would be reported unhandled.
    started.catch(() => undefined);
    pending.push(started);
  };
  for await (const item of items) {
    begin(item);
    if (pending.length >= depth) yield await (pending.shift() as Promise<R>);
  }
  while (pending.length > 0) yield await (pending.shift() as Promise<R>);
}
