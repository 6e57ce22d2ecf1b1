/**
 * Handler keys: which handler runs for `${source}.${type}`.
 *
 * A key is exact (`github.push`) or a pattern in the shared type-pattern language (lambda/shared/type-pattern.ts):
 * `*` matches a run of one or more characters without a dot, `**` matches anything. When several keys match, the most specific wins:
 * the exact key first, then the pattern with the most literal (non-wildcard) characters, then the one with
 * fewer `**`, then the one declared first. Resolutions are cached per event key, so routing costs one map
 * lookup per record after the first record of each type.
 */

import { compileTypePattern, validateTypePattern } from '../shared/type-pattern';

interface CompiledKey<T> {
  readonly key: string;
  readonly regex: RegExp;
  readonly literalLength: number;
  readonly globstars: number;
  readonly order: number;
  readonly value: T;
}

/** Throws on keys that cannot match anything sensible (empty, or `***`). */
export function validateHandlerKey(key: string): void {
  validateTypePattern(key);
}

function compile<T>(key: string, value: T, order: number): CompiledKey<T> {
  return { key, ...compileTypePattern(key), order, value };
}

/** Resolves event keys to the values registered under exact keys and patterns. */
export class HandlerRouter<T> {
  readonly #exact = new Map<string, T>();
  readonly #patterns: CompiledKey<T>[] = [];
  readonly #cache = new Map<string, { readonly key: string; readonly value: T } | null>();

  constructor(entries: Iterable<readonly [string, T]>) {
    let order = 0;
    for (const [key, value] of entries) {
      if (key.includes('*')) this.#patterns.push(compile(key, value, order++));
      else {
        validateHandlerKey(key);
        this.#exact.set(key, value);
      }
    }
    this.#patterns.sort(
      (a, b) => b.literalLength - a.literalLength || a.globstars - b.globstars || a.order - b.order,
    );
  }

  /** The matching handler key and its value, or `undefined` when nothing matches. */
  resolve(eventKey: string): { readonly key: string; readonly value: T } | undefined {
    const cached = this.#cache.get(eventKey);
    if (cached !== undefined) return cached ?? undefined;
    const resolved = this.#lookup(eventKey);
    // Bounded so a sender inventing types cannot grow the cache without limit.
    if (this.#cache.size < 1_000) this.#cache.set(eventKey, resolved ?? null);
    return resolved;
  }

  #lookup(eventKey: string): { readonly key: string; readonly value: T } | undefined {
    const exact = this.#exact.get(eventKey);
    if (exact !== undefined) return { key: eventKey, value: exact };
    for (const pattern of this.#patterns) {
      if (pattern.regex.test(eventKey)) return { key: pattern.key, value: pattern.value };
    }
    return undefined;
  }
}
