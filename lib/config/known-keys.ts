/**
 * The settings a configuration object may hold, read from the schema at a path: an unknown key is reported with
 * the one of them it most likely meant (`closestName`).
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
