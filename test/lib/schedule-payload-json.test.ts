/**
 * A schedule's payload travels as JSON: a part JSON would leave out or change (a function, a Map, NaN) is refused where
 * it is, by `cdk synth` and local mode alike, rather than delivered without it.
 */
import { describe, expect, it } from 'vitest';
import { type HooklineConfig, HooklineConfigError, resolveConfig } from '../../lib/config';
import { formatViolation } from '../../lib/violations';

const withPayload = (payload: unknown): HooklineConfig => ({
  sources: { github: { type: 'github' } },
  queues: { events: {} },
  schedules: [
    { name: 'nightly', expression: 'rate(1 day)', queue: 'events', type: 'report.nightly', payload },
  ],
});

function listing(config: HooklineConfig, forDeploy: boolean): string[] {
  try {
    resolveConfig(config, { forDeploy });
    return [];
  } catch (error) {
    if (!(error instanceof HooklineConfigError)) throw error;
    return error.violations.map(formatViolation);
  }
}

describe("a schedule's payload", () => {
  it.each([
    [
      'a function',
      { report: 'daily', render: () => 'x' },
      'payload.render is a function, which JSON leaves out',
    ],
    ['a symbol', { tag: Symbol('x') }, 'payload.tag is a symbol, which JSON leaves out'],
    ['a Map', { limits: new Map([['a', 1]]) }, 'payload.limits is a Map, which JSON writes as {}'],
    ['a Set', { ids: [1, new Set([2])] }, 'payload.ids.1 is a Set, which JSON writes as {}'],
    ['NaN', { ratio: Number.NaN }, 'payload.ratio is NaN, which JSON writes as null'],
    [
      'Infinity',
      { nested: { max: Number.POSITIVE_INFINITY } },
      'payload.nested.max is Infinity, which JSON writes as null',
    ],
    ['undefined in a list', { ids: [1, undefined] }, 'payload.ids.1 is undefined, which JSON writes as null'],
  ])('holding %s is refused at the schedule, saying where and what JSON would do', (_, payload, said) => {
    // WHEN the configuration is resolved for a deploy and for local mode
    const deploy = listing(withPayload(payload), true);
    const local = listing(withPayload(payload), false);
    // THEN both refuse it the same way, naming the part and what JSON would make of it
    expect(local).toEqual(deploy);
    expect(deploy).toHaveLength(1);
    expect(deploy[0]).toMatch(/^schedules\.0\.payload: /);
    expect(deploy[0]).toContain(said);
    expect(deploy[0]).toContain('Fix: ');
  });

  it('takes what JSON keeps: plain objects, lists, text, finite numbers, booleans, null, a Date (an ISO string) and a field left undefined', () => {
    const payload = { a: [1, 'x', true, null, { b: 2.5 }], at: new Date(0), skipped: undefined };
    expect(listing(withPayload(payload), true)).toEqual([]);
  });
});
