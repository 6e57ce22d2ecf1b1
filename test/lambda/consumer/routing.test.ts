import { describe, expect, it } from 'vitest';
import { HandlerRouter } from '../../../lambda/consumer/routing';

const router = (...keys: string[]) => new HandlerRouter(keys.map((k) => [k, k] as const));

describe('handler keys', () => {
  it.each([
    ['github.push', 'github.push', true],
    ['github.push', 'github.pushed', false],
    ['stripe.invoice.*', 'stripe.invoice.paid', true],
    ['stripe.invoice.*', 'stripe.invoice.payment.failed', false],
    ['stripe.*', 'stripe.invoice.paid', false],
    ['stripe.**', 'stripe.invoice.payment.failed', true],
    ['**', 'anything.at.all', true],
    ['shopify.orders/*', 'shopify.orders/create', true],
    ['*.push', 'github.push', true],
    ['*.push', 'github.x.push', false],
    ['gith?b.push', 'github.push', false],
    ['a+b.c', 'a+b.c', true],
  ])('%s matches %s: %s', (key, eventKey, matches) => {
    expect(router(key).resolve(eventKey)?.key).toBe(matches ? key : undefined);
  });

  it('prefers the exact key, then the pattern with more literal characters, then fewer **, then the first', () => {
    const r = router('**', 'stripe.**', 'stripe.*.paid', 'stripe.invoice.*', 'stripe.invoice.paid');
    expect(r.resolve('stripe.invoice.paid')?.key).toBe('stripe.invoice.paid');
    expect(r.resolve('stripe.invoice.created')?.key).toBe('stripe.invoice.*');
    expect(r.resolve('stripe.charge.paid')?.key).toBe('stripe.*.paid');
    expect(r.resolve('stripe.charge.refunded')?.key).toBe('stripe.**');
    expect(r.resolve('github.push')?.key).toBe('**');
    expect(router('a.**', 'a.*').resolve('a.b')?.key).toBe('a.*');
    expect(router('*.b', 'a.*').resolve('a.b')?.key).toBe('*.b');
  });

  it('resolves the same way from its cache', () => {
    const r = router('github.*');
    expect(r.resolve('github.push')?.key).toBe('github.*');
    expect(r.resolve('github.push')?.key).toBe('github.*');
    expect(r.resolve('slack.x')).toBeUndefined();
    expect(r.resolve('slack.x')).toBeUndefined();
  });

  it('rejects empty keys and ***', () => {
    expect(() => router('')).toThrow(/must not be empty/);
    expect(() => router('a.***')).toThrow(/\*\*\*/);
  });
});
