/**
 * Which part of a value `JSON.stringify` throws on, and why: one answer for a job's payload (`lambda/producer`) and
 * a configured schedule's (`lib`), so both name the part the same way. Pure; imports nothing.
 */

/** A part JSON cannot write: its path from the value's root, what it is, and how to send it instead. */
export interface UnwritablePart {
  readonly path: readonly string[];
  /** What the part is and that JSON cannot write it: `is a BigInt, which JSON cannot write`. */
  readonly why: string;
  /** How to send it instead, where there is a plain way. */
  readonly fix?: string;
}

/**
 * The first part of a value `JSON.stringify` throws on, with its path: a BigInt, or an object inside itself. A
 * part with `toJSON` says itself how it is written, and is not looked into. Undefined when none is found (a
 * `toJSON` that throws), or the value is too deep to walk.
 */
export function unwritablePart(
  value: unknown,
  path: readonly string[] = [],
  ancestors: readonly object[] = [],
): UnwritablePart | undefined {
  if (typeof value === 'bigint')
    return {
      path,
      why: 'is a BigInt, which JSON cannot write',
      fix: 'send it as a string (String(n)) or a number',
    };
  if (value === null || typeof value !== 'object') return undefined;
  if (ancestors.includes(value))
    return { path, why: 'is an object that contains itself (a cycle), which JSON cannot write' };
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  try {
    for (const [key, child] of Object.entries(value)) {
      const found = unwritablePart(child, [...path, key], [...ancestors, value]);
      if (found) return found;
    }
  } catch {
    // Deeper than the stack allows: the caller says it in general terms.
  }
  return undefined;
}
