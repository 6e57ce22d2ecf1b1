/**
 * A correction to dynalite 4 that local mode applies where it starts the emulator (`emulators.ts`), so a
 * conditional write that fails answers as DynamoDB answers it. Kept here rather than as a patch of node_modules so
 * it applies however the package was installed, and only to local mode's emulator: the functions' own code and
 * their DynamoDB clients are the deployed ones, unchanged.
 *
 * DynamoDB hands back the item a refused `PutItem`, `UpdateItem` or `DeleteItem` found when the request asks for
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD`: the error body carries it as `Item` (marshalled attribute
 * values), which the SDK v3 puts on `ConditionalCheckFailedException.Item`. dynalite drops the parameter (its
 * request validation keeps only the fields it knows) and answers without the item (architect/dynalite#182).
 * Powertools' idempotency asks for it when it takes a key: with the item, a copy that collides with another copy
 * holding the key is "in progress elsewhere" at once; without it, Powertools reads the record back in a second call,
 * and a holder that failed and released the key in between leaves nothing to read (`IdempotencyItemNotFoundError`).
 *
 * The fix keeps the parameter through validation and, when the condition fails, puts the very item the condition
 * was evaluated against on the error: read inside dynalite's lock on that item, so no other write lands between
 * the check and the answer, exactly as DynamoDB answers. A no-op where dynalite's internals have moved (the copy
 * race then reads back as before, `KeyReleasedByOtherCopyError`); `dynalite-fixes.test.ts` fails loudly then.
 */

/** An attribute map as dynalite stores and DynamoDB's wire protocol writes it: `{ name: { S: '...' } }`. */
type StoredItem = Record<string, unknown>;

/** A refusal dynalite answers with: its status, and the JSON body it writes. */
interface DynaliteRefusal {
  body?: Record<string, unknown>;
}

interface DynaliteDb {
  checkConditional(data: Record<string, unknown>, existingItem: StoredItem | undefined): unknown;
}

interface DynaliteValidation {
  types: Record<string, unknown>;
}

/** The writes that take a condition, and so `ReturnValuesOnConditionCheckFailure` (dynalite has no transactions). */
const CONDITIONAL_WRITES = ['putItem', 'updateItem', 'deleteItem'] as const;

const PARAMETER = 'ReturnValuesOnConditionCheckFailure';
const PATCHED = Symbol.for('hookline.dynalite-condition-item');

/**
 * Makes dynalite (loaded through `require`, the emulator's own) answer a refused conditional write that asked for
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD` with the existing item in the error's `Item`. True once applied
 * (now or by an earlier call), false where dynalite's internals are not where this expects them.
 */
export function fixConditionFailureItem(require: NodeJS.Require): boolean {
  const db = loaded<DynaliteDb & { [PATCHED]?: true }>(require, 'dynalite/db');
  const validations = CONDITIONAL_WRITES.map((action) =>
    loaded<DynaliteValidation>(require, `dynalite/validations/${action}`),
  );
  if (!db || typeof db.checkConditional !== 'function') return false;
  if (db[PATCHED]) return true;
  if (validations.some((validation) => typeof validation?.types !== 'object')) return false;
  for (const validation of validations as DynaliteValidation[]) {
    // DynamoDB's values for a single write: NONE and ALL_OLD.
    validation.types[PARAMETER] ??= { type: 'String', enum: ['ALL_OLD', 'NONE'] };
  }
  const check = db.checkConditional;
  db.checkConditional = (data, existingItem) => {
    const refused = check(data, existingItem) as DynaliteRefusal | null | undefined;
    if (refused?.body && existingItem && data[PARAMETER] === 'ALL_OLD') refused.body.Item = existingItem;
    return refused;
  };
  db[PATCHED] = true;
  return true;
}

/** The module at `id`, or undefined when it cannot be loaded (a dynalite whose layout moved). */
function loaded<T>(require: NodeJS.Require, id: string): T | undefined {
  try {
    return require(id) as T;
  } catch {
    return undefined;
  }
}
