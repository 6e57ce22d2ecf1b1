/**
 * Deferred creation for what not every invocation needs (an SDK client and the module that defines it).
 *
 * A function bundle evaluates every module it imports statically before the first request: an SDK client module
 * costs as much to evaluate as the SQS client a function needs anyway. Imported with `import()` inside `create`
 * instead, it is evaluated only then; in a one-file bundle (as CDK bundles the consumers) its code is still read
 * at import, in the ingest's split bundle (lib/ingest-asset.ts) it is a chunk read only then.
 */

/**
 * Returns a getter that runs `create` on its first call and hands every later call the same promise. A failed
 * creation is not kept: the next call tries again (a request that could not load a client answers 503 and
 * the sender retries).
 */
export function onFirstUse<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
