import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  pausedConsumersPath,
  readBreakerTrips,
  readPausedConsumers,
  writePausedConsumers,
} from '../../../lib/local/paused-consumers';
import { LocalStartProblem } from '../../../lib/local/start-problem';

const root = mkdtempSync(join(tmpdir(), 'hookline-paused-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataDir = () => mkdtempSync(join(root, 'data-'));

describe('paused consumers kept in the data directory', () => {
  it('starts every consumer when nothing was saved', () => {
    expect(readPausedConsumers(dataDir())).toEqual(new Set());
  });

  it('reads back the consumers saved as paused, and none once every one was resumed', () => {
    const dir = dataDir();
    writePausedConsumers(dir, new Set(['events', 'billing']));
    expect(readPausedConsumers(dir)).toEqual(new Set(['billing', 'events']));
    writePausedConsumers(dir, []);
    expect(readPausedConsumers(dir)).toEqual(new Set());
  });

  it("keeps what tripped a breaker's pause beside the pause, and drops it once written without it", () => {
    const dir = dataDir();
    const trip = { trippedAt: '2026-01-01T00:00:00.000Z', failed: 20, ended: 20, windowMinutes: 1 };
    writePausedConsumers(dir, ['events', 'billing'], new Map([['events', trip]]));
    expect(readPausedConsumers(dir)).toEqual(new Set(['billing', 'events']));
    expect(readBreakerTrips(dir)).toEqual(new Map([['events', trip]]));
    writePausedConsumers(dir, ['billing']);
    expect(readBreakerTrips(dir)).toEqual(new Map());
  });

  it('stops the start on a breaker trip it cannot read, rather than forget why a consumer was paused', () => {
    const dir = dataDir();
    writeFileSync(pausedConsumersPath(dir), '{"paused": ["events"], "breaker": {"events": {"failed": 1}}}');
    expect(() => readPausedConsumers(dir)).toThrow(/is unreadable \(expected "breaker": /);
  });

  it("keeps a breaker's circuit and its probe time, also the half-open one of a consumer that runs", () => {
    const dir = dataDir();
    const trip = { trippedAt: '2026-01-01T00:00:00.000Z', failed: 20, ended: 20, windowMinutes: 1 };
    const open = {
      state: 'open' as const,
      since: trip.trippedAt,
      opens: 2,
      probeAt: '2026-01-01T00:02:00.000Z',
    };
    const halfOpen = {
      state: 'half-open' as const,
      since: '2026-01-01T00:02:00.000Z',
      opens: 1,
      closesAt: '2026-01-01T00:03:00.000Z',
      probeConcurrency: 1,
    };
    const trips = new Map([
      ['billing', { ...trip, circuit: halfOpen }],
      ['events', { ...trip, circuit: open }],
    ]);
    writePausedConsumers(dir, ['events'], trips);
    expect(readPausedConsumers(dir)).toEqual(new Set(['events']));
    expect(readBreakerTrips(dir)).toEqual(trips);
  });

  it.each([
    ['an unknown state', { state: 'closed', since: '2026-01-01T00:00:00.000Z', opens: 1 }],
    [
      'a probe time that is no time',
      { state: 'open', since: '2026-01-01T00:00:00.000Z', opens: 1, probeAt: 'soon' },
    ],
    ['no count of opens', { state: 'open', since: '2026-01-01T00:00:00.000Z' }],
    ['no opens at all', { state: 'open', since: '2026-01-01T00:00:00.000Z', opens: 0 }],
    ['a start that is no time', { state: 'open', since: 'yesterday', opens: 1 }],
    // It would run at probe concurrency for good: nothing would ever close it.
    [
      'a half-open probe without its close time',
      { state: 'half-open', since: '2026-01-01T00:00:00.000Z', opens: 1 },
    ],
    [
      'an open circuit with a close time',
      { state: 'open', since: '2026-01-01T00:00:00.000Z', opens: 1, closesAt: '2026-01-01T00:01:00.000Z' },
    ],
  ])('stops the start on a circuit with %s, rather than guess when to probe', (_, circuit) => {
    const dir = dataDir();
    const trip = { trippedAt: '2026-01-01T00:00:00.000Z', failed: 20, ended: 20, windowMinutes: 1, circuit };
    writeFileSync(
      pausedConsumersPath(dir),
      JSON.stringify({ paused: ['events'], breaker: { events: trip } }),
    );
    expect(() => readPausedConsumers(dir)).toThrow(
      /is unreadable \(expected "breaker": \{"events": \{"circuit": \{"state": "open", .*"half-open".*"closesAt"\}/,
    );
    expect(() => readPausedConsumers(dir)).toThrow('or delete it to start every consumer');
  });

  it.each([
    ['cut JSON', '{"paused": ["eve'],
    ['null', 'null'],
    ['a list without the key', '["events"]'],
    ['a name that is not a string', '{"paused": ["events", 3]}'],
    ['paused that is not a list', '{"paused": "events"}'],
  ])('stops the start on %s, naming the file and the fix, rather than run what was paused', (_, content) => {
    const dir = dataDir();
    writeFileSync(pausedConsumersPath(dir), content);
    expect(() => readPausedConsumers(dir)).toThrow(LocalStartProblem);
    expect(() => readPausedConsumers(dir)).toThrow(`${pausedConsumersPath(dir)} is unreadable (`);
    expect(() => readPausedConsumers(dir)).toThrow('or delete it to start every consumer');
  });
});
