/**
 * The one pattern language for event types, shared by ingest routes and consumer handler keys:
 * exact text; `*` = a run of one or more characters without a dot; `**` = anything, dots included (possibly
 * nothing). `invoice.*` matches `invoice.paid` but not `invoice.payment.failed`; `invoice.**` matches both;
 * `orders/*` matches `orders/create`.
 */

/** A compiled pattern and what makes it specific (for choosing among several matches). */
export interface TypePattern {
  readonly regex: RegExp;
  /** Characters that are not wildcards: more means more specific. */
  readonly literalLength: number;
  /** Number of `**`: fewer means more specific. */
  readonly globstars: number;
}

/** Throws on patterns that cannot mean anything sensible (empty, an empty segment, or `***`). */
export function validateTypePattern(pattern: string): void {
  if (pattern.length === 0) throw new Error('a type pattern must not be empty');
  if (/^\.|\.\.|\.$/.test(pattern)) {
    throw new Error(
      `type pattern "${pattern}" has an empty segment (a dot at an end, or two in a row): no event type has one`,
    );
  }
  if (pattern.includes('***')) {
    throw new Error(`type pattern "${pattern}": use "*" (one segment) or "**" (anything), not "***"`);
  }
}

/** Compiles a pattern; throws on an invalid one (see {@link validateTypePattern}). */
export function compileTypePattern(pattern: string): TypePattern {
  validateTypePattern(pattern);
  let source = '';
  let literalLength = 0;
  let globstars = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '*') {
      if (pattern.charAt(i + 1) === '*') {
        source += '.*';
        globstars++;
        i++;
      } else {
        source += '[^.]+';
      }
    } else {
      source += char.replace(/[\\^$.|?+()[\]{}/]/g, '\\$&');
      literalLength++;
    }
  }
  return { regex: new RegExp(`^${source}$`, 's'), literalLength, globstars };
}
