/**
 * The settings a configuration object may hold, read from the schema at a path, and the one a misspelt key most
 * likely meant: an unknown key is reported with a "did you mean" where a known one is close.
 */
import type { z } from 'zod';

type AnySchema = z.ZodType;

/** The parts of a zod schema's definition read to walk the configuration's schema. */
export interface SchemaDef {
  readonly type: string;
  readonly shape?: Readonly<Record<string, AnySchema>>;
  readonly innerType?: AnySchema;
  readonly valueType?: AnySchema;
  readonly element?: AnySchema;
  readonly options?: readonly AnySchema[];
  readonly in?: AnySchema;
  readonly entries?: Readonly<Record<string, string>>;
  readonly values?: readonly unknown[];
  readonly params?: { readonly expects?: string };
}

/** A schema's definition, read through zod's internal `_zod.def` (zod 4 publishes no walker of its own). */
export const defOf = (schema: AnySchema): SchemaDef => schema._zod.def as unknown as SchemaDef;

/** The object schemas a value at this schema may be (the options of a union, past optional and pipe wrappers). */
function objectsOf(schema: AnySchema): AnySchema[] {
  const def = defOf(schema);
  if (def.type === 'object') return [schema];
  if (def.type === 'union') return (def.options ?? []).flatMap(objectsOf);
  const inner = def.innerType ?? def.in;
  return inner ? objectsOf(inner) : [];
}

/** The schemas one step below `schema` at `key`: a field, a record's entry or a list's item. */
function childrenOf(schema: AnySchema, key: PropertyKey): AnySchema[] {
  const def = defOf(schema);
  if (def.type === 'record' && def.valueType) return [def.valueType];
  if (def.type === 'array' && def.element) return [def.element];
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => childrenOf(o, key));
  const inner = def.innerType ?? def.in;
  if (inner) return childrenOf(inner, key);
  const field = def.shape?.[String(key)];
  return field ? [field] : [];
}

/**
 * The keys an object at `path` may hold. Where the schema is a union (a source, by its `type`), only the options
 * that accept the object's own `type` count, so another sender's field is never offered.
 */
export function knownKeysAt(root: AnySchema, path: readonly PropertyKey[], value: unknown): string[] {
  let schemas = [root];
  for (const key of path) schemas = schemas.flatMap((s) => childrenOf(s, key));
  const type = value && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
  const objects = schemas.flatMap(objectsOf);
  const ofType = objects.filter((o) => {
    const field = defOf(o).shape?.type;
    return type !== undefined && field?.safeParse(type).success === true;
  });
  return [
    ...new Set((ofType.length > 0 ? ofType : objects).flatMap((o) => Object.keys(defOf(o).shape ?? {}))),
  ];
}

/** Edits between two words, a swap of neighbours counting as one (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The known key `key` was most likely meant to be: the same word in another case, or one a typo or two away (one
 * for a key of four letters or fewer, so that short keys are not offered for unrelated ones).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const sameWord = known.find((k) => k.toLowerCase() === key.toLowerCase());
  if (sameWord) return sameWord;
  const most = key.length <= 4 ? 1 : 2;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d <= most && (!best || d < best.distance)) best = { key: candidate, distance: d };
  }
  return best?.key;
}
