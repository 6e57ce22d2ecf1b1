/**
 * The one vocabulary for a broken rule: where (path), what was given (value), what is wrong (message) and how to
 * fix it. The configuration, the constructs, the schedules and the dashboard all report with it, render it the
 * same way and throw every problem at once.
 */
import { inspect } from 'node:util';
import { Duration, Token } from 'aws-cdk-lib/core';
import { isForeignDuration } from './foreign-duration';

/** One broken rule. */
export interface Violation {
  /** Dotted path of the field, relative to the object checked until prefixed, e.g. `queues.events.batchSize`. */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
  /** The value given, rendered for a person ({@link renderValue}). */
  readonly value: string;
  /** How to fix it. */
  readonly fix: string;
}

/** Renders a value for an error message; an unresolved CDK token shows as `<token>`. */
export function renderValue(value: unknown): string {
  if (value instanceof Duration) {
    if (durationIsToken(value)) return '<token>';
    // CDK writes a Duration of NaN as nothing at all.
    const ms = value.toMilliseconds({ integral: false });
    return Number.isFinite(ms) ? value.toHumanString() : `a Duration of ${ms}`;
  }
  if (isForeignDuration(value)) return value.toHumanString();
  if (value === undefined) return 'nothing';
  // A token's encoding (`${Token[TOKEN.12]}`, -1.888e+289) means nothing to a person.
  if ((typeof value === 'string' || typeof value === 'number') && Token.isUnresolved(value)) return '<token>';
  // JSON writes these as null, which is not what was given (`Number(process.env.X)` with X unset is NaN).
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value, readableInside);
  } catch {
    text = undefined;
  }
  // What JSON cannot write is shown as written (a function) or as Node shows it (`{ count: 1n }`), not as
  // `[object Object]`.
  text ??=
    typeof value === 'function'
      ? String(value)
      : inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A value inside an object or list as {@link renderValue} shows it alone: a Duration as `5 minutes` rather than its
 * fields, a token as `<token>` rather than its encoding.
 */
function readableInside(this: unknown, key: string, value: unknown): unknown {
  if (key === '') return value;
  if (value instanceof Duration || isForeignDuration(value)) return renderValue(value);
  if ((typeof value === 'string' || typeof value === 'number') && Token.isUnresolved(value)) return '<token>';
  return value;
}

/** A Duration of a token amount: CDK converts it to a token, or refuses to convert it at all (one of another unit). */
export function durationIsToken(d: Duration): boolean {
  try {
    return Token.isUnresolved(d.toMilliseconds({ integral: false }));
  } catch {
    return true;
  }
}

/** A {@link Violation} of the rule at `path`, with the value given rendered. */
export function violation(path: string, message: string, value: unknown, fix: string): Violation {
  return { path, message, value: renderValue(value), fix };
}

/** The violations with `prefix` in front of each path (a relative path becomes `prefix.path`). */
export function prefixViolations(prefix: string, violations: readonly Violation[]): Violation[] {
  return violations.map((v) => ({ ...v, path: v.path ? `${prefix}.${v.path}` : prefix }));
}

/** One violation as a line: `path: message (got value). Fix: fix`. */
export function formatViolation(v: Violation): string {
  return `${v.path}: ${v.message} (got ${v.value}). Fix: ${v.fix}`;
}

/** A heading and one indented line per violation. */
export function formatViolations(heading: string, violations: readonly Violation[]): string {
  return `${heading}:\n${violations.map((v) => `  - ${formatViolation(v)}`).join('\n')}`;
}

/** Every violation found in one object, thrown at once; its message lists them all with their fixes. */
export class ViolationsError extends Error {
  declare readonly violations: readonly Violation[];

  constructor(heading: string, violations: readonly Violation[]) {
    super(formatViolations(heading, violations));
    this.name = 'ViolationsError';
    // A mistake in the input, not a bug: printed uncaught (a user's `cdk synth` of an app that builds a
    // HooklinePipeline), it shows the listing alone, not frames of hookline's code and a dump of what it lists.
    Object.defineProperty(this, 'violations', { value: violations, enumerable: false });
    Object.defineProperty(this, 'stack', { get: () => `${this.name}: ${this.message}`, configurable: true });
  }
}

/** Throws one {@link ViolationsError} listing every violation, for construct props. */
export function throwIfViolations(what: string, violations: readonly Violation[]): void {
  if (violations.length > 0) throw new ViolationsError(`Invalid ${what}`, violations);
}

/** Collects the violations of one check, so each rule reports and the check goes on to the next. */
export class ViolationList {
  readonly violations: Violation[] = [];

  /** Records the rule at `path` broken by `value`. */
  add(path: string, message: string, value: unknown, fix: string): void {
    this.violations.push(violation(path, message, value, fix));
  }

  /** Records violations whose paths are relative to `prefix`. */
  addAll(prefix: string, violations: readonly Violation[]): void {
    this.violations.push(...prefixViolations(prefix, violations));
  }
}
