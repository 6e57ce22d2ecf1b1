/**
 * Work over a list a few items at a time: a fixed number of lanes, each taking the next item as its last one ends.
 * One home for the loop the producer's sends, the consumer's bounded batches and the CLI's bulk SQS and DynamoDB
 * calls all need, so that a stop condition means the same everywhere: no item is taken after it, items at work
 * end, and items not reached are left untouched (a caller can say which they were).
 */

/** How {@link mapLimited} may stop before it has taken every item. */
export interface MapLimitedOptions {
  /**
   * Asked before each item is taken: once it returns true, no further item is taken. For a signal,
   * `() => signal.aborted`.
   * @default - every item is taken, unless `work` throws
   */
  readonly stopWhen?: () => boolean;
}

/**
 * Runs `work` over `items`, at most `limit` at once, taking them in their order. Resolves with one result per item
 * taken, in the items' order: a prefix of the items when `stopWhen` stopped it, whose length says where.
 *
 * The first error `work` throws stops the taking of items like `stopWhen`; the items at work still end (none is
 * left running behind the caller's back), then it rejects with that error.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  options: MapLimitedOptions = {},
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`the limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let stopped = false;
  let failure: { readonly error: unknown } | undefined;
  const lane = async () => {
    while (!stopped && next < items.length) {
      if (options.stopWhen?.()) {
        stopped = true;
        break;
      }
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
        stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
  results.length = next;
  return results;
}
