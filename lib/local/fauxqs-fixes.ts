/**
 * Corrections to fauxqs 2.4.1 that local mode applies where it assembles the emulator (`emulators.ts`), so
 * the operator's view of a local queue matches what SQS would show, on a persisted data directory as in memory.
 * Kept here rather than as a patch of node_modules so they apply however the package was installed; each one is
 * a no-op once fauxqs behaves (and `fauxqs-fixes.test.ts` fails loudly if the internals they touch move).
 *
 * 1. Releasing a held message (`ChangeMessageVisibility` 0) on a persisted queue writes NULL into the
 *    NOT NULL `approximate_receive_count` column (`PersistenceManager.updateMessageReady`); the SQLite error
 *    surfaces after the message left the in-flight map and before it re-entered the queue, so it vanishes from
 *    the running emulator until a restart, and the caller gets `ReceiptHandleIsInvalid` or a 500. The receive
 *    count must survive a release anyway (SQS keeps counting), so the fix clears only the hold.
 *    Upstream: fauxqs 2.4.1 `updateMessageReady` (dist/persistence.js); no issue found in kibertoad/fauxqs yet.
 * 2. `GetQueueAttributes` counts an expired hold as in flight until the next receive on that queue moves it
 *    back (`processTimers` runs only from receives and long-poll timers), so a queue whose messages were read
 *    and not released reads "0 visible". The fix runs the same timer step before the counts are read.
 */

interface FauxqsMessageRow {
  run(...values: unknown[]): unknown;
}
interface FauxqsPersistenceInternals {
  db: { prepare(sql: string): FauxqsMessageRow };
  updateMessageReady(messageId: string): void;
}
interface FauxqsQueuePrototype {
  processTimers(): void;
  getAllAttributes(names: readonly string[]): Record<string, string>;
}

const PATCHED = Symbol.for('hookline.fauxqs-fixes');

/** Makes `updateMessageReady` clear the hold only, keeping the receive count and first-receive time. */
export function fixReleasePersistence(persistence: unknown): void {
  const manager = persistence as FauxqsPersistenceInternals & { [PATCHED]?: true };
  if (manager[PATCHED]) return;
  const clearHold = manager.db.prepare(
    'UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?',
  );
  manager.updateMessageReady = (messageId: string) => {
    clearHold.run(messageId);
  };
  manager[PATCHED] = true;
}

/** Makes queue counts reflect holds that have expired (as SQS's counts do). */
export function fixExpiredHoldCounts(queueClass: unknown): void {
  const prototype = (queueClass as { prototype: FauxqsQueuePrototype & { [PATCHED]?: true } }).prototype;
  if (prototype[PATCHED]) return;
  const original = prototype.getAllAttributes;
  prototype.getAllAttributes = function getAllAttributes(this: FauxqsQueuePrototype, names) {
    this.processTimers();
    return original.call(this, names);
  };
  prototype[PATCHED] = true;
}
