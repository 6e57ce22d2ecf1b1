import { describe, expect, it } from 'vitest';
import { HandlerRouter } from '../../../lambda/consumer/routing';
import { typeMatches } from '../../../lambda/ingest/routing';
import { compileTypePattern } from '../../../lambda/shared/type-pattern';

const cases: Array<[string, string, boolean]> = [
  ['invoice.*', 'invoice.paid', true],
  ['invoice.*', 'invoice.', false],
  ['invoice.*', 'invoice.payment.failed', false],
  ['invoice.**', 'invoice.payment.failed', true],
  ['orders/*', 'orders/create', true],
  ['a+b(c)', 'a+b(c)', true],
  ['*.opened', 'issues.opened', true],
  // `**` between dots keeps both dots: it does not swallow the one after it.
  ['stripe.**.paid', 'stripe.invoice.paid', true],
  ['stripe.**.paid', 'stripe.invoicepaid', false],
  // A line separator survives type sanitizing (only C0 controls are replaced): wildcards still match it.
  ['invoice.**', 'invoice.a\u2028b', true],
  ['invoice.*', 'invoice.a\u2029b', true],
];

describe('type patterns', () => {
  it.each(cases)('%s matches %s: %s', (pattern, type, expected) => {
    expect(compileTypePattern(pattern).regex.test(type)).toBe(expected);
  });

  it('mean the same in ingest routes and in consumer handler keys', () => {
    for (const [pattern, type, expected] of cases) {
      expect(typeMatches(pattern, type)).toBe(expected);
      const router = new HandlerRouter([[pattern, pattern]]);
      expect(router.resolve(type)?.key === pattern).toBe(expected);
    }
  });

  it('ranks specificity: literal characters, then fewer **', () => {
    expect(compileTypePattern('stripe.invoice.*').literalLength).toBeGreaterThan(
      compileTypePattern('stripe.*').literalLength,
    );
    expect(compileTypePattern('a.**.b.**').globstars).toBe(2);
  });

  it('rejects empty patterns, empty segments (a typo no type has) and ***', () => {
    expect(() => compileTypePattern('')).toThrow(/must not be empty/);
    expect(() => compileTypePattern('a.***')).toThrow(/not "\*\*\*"/);
    for (const typo of ['push..*', '.push', 'push.'])
      expect(() => compileTypePattern(typo)).toThrow(/has an empty segment/);
  });
});
