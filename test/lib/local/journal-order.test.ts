/**
 * Journal lines in the order they happened: read whole, sorted by time (lines of one time as given); read as they are
 * written, each held a settle window so an earlier line that another writer brings to the file a little later takes
 * its place, and a line later than that shown when read, marked late, never dropped. The clock is the `readAt` each
 * read is given.
 */
import { describe, expect, it } from 'vitest';
import { inTimeOrder, LateLines, SettlingOrder } from '../../../lib/local/journal-order';

const T0 = Date.parse('2026-12-05T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const line = (id: string, ms: number) => ({ id, at: at(ms) });
const ids = (settled: readonly { readonly line: { readonly id: string }; readonly late: boolean }[]) =>
  settled.map(({ line, late }) => (late ? `${line.id} (late)` : line.id));

describe('journal lines read whole', () => {
  it('come in the order they happened, lines of the same time in the order read', () => {
    const lines = [line('processed', 20), line('b-same', 10), line('received', 5), line('a-same', 10)];
    expect(inTimeOrder(lines).map((l) => l.id)).toEqual(['received', 'b-same', 'a-same', 'processed']);
  });

  it('keep a line whose time cannot be read, after the others', () => {
    const lines = [{ id: 'garbled', at: 'not a time' }, line('received', 5)];
    expect(inTimeOrder(lines).map((l) => l.id)).toEqual(['received', 'garbled']);
  });
});

describe('journal lines read as they are written', () => {
  const SETTLE = 1_000;

  it("put an ingest's line the journal got in the next read before the consumer's line it got first", () => {
    const order = new SettlingOrder<{ id: string; at: string }>(SETTLE);
    // The consumer's `processed` (time 20) is read first; the ingest's `received` (time 5) a poll later.
    expect(order.next([line('processed', 20)], T0 + 30, true)).toEqual([]);
    expect(order.next([line('received', 5)], T0 + 280, true)).toEqual([]);
    expect(ids(order.next([], T0 + 1_004, true))).toEqual([]);
    expect(ids(order.next([], T0 + 1_010, true))).toEqual(['received']);
    expect(ids(order.next([], T0 + 1_020, true))).toEqual(['processed']);
    expect(order.holding).toBe(0);
  });

  it('hold a line no longer than the window after a clock set back an hour while it is held', () => {
    const order = new SettlingOrder<{ id: string; at: string }>(SETTLE);
    expect(order.next([line('processed', 20)], T0 + 30, true)).toEqual([]);
    const back = T0 + 30 - 3_600_000;
    expect(ids(order.next([], back + 500, true))).toEqual([]);
    expect(ids(order.next([], back + 1_500, true))).toEqual(['processed']);
    expect(order.holding).toBe(0);
  });

  it('let lines of the same time go in the order they were read', () => {
    const order = new SettlingOrder<{ id: string; at: string }>(SETTLE);
    order.next([line('first', 10), line('second', 10)], T0 + 20, true);
    order.next([line('third', 10)], T0 + 40, true);
    expect(ids(order.next([], T0 + 1_010, true))).toEqual(['first', 'second', 'third']);
  });

  it('show a line read after the window, marked late, at once and after what was shown', () => {
    const order = new SettlingOrder<{ id: string; at: string }>(SETTLE);
    order.next([line('processed', 20)], T0 + 30, true);
    expect(ids(order.next([], T0 + 1_020, true))).toEqual(['processed']);
    // Written 1.5 s after its time: the line of time 20 was shown already.
    expect(ids(order.next([line('received', 5)], T0 + 1_505, true))).toEqual(['received (late)']);
    // A line of the shown line's own time is in its place: after it, as read.
    expect(ids(order.next([line('same-time', 20)], T0 + 1_600, true))).toEqual(['same-time']);
  });

  it('let go what a journal already holds as it is read, holding only what a later chunk may still precede', () => {
    const order = new SettlingOrder<{ id: string; at: string }>(SETTLE);
    // Read long after it was written (tail --since), a chunk at a time: the clock says nothing until the end.
    const now = T0 + 3_600_000;
    const first = order.next([line('a', 0), line('c', 2_500), line('b', 2_000)], now, false);
    expect(ids(first)).toEqual(['a']);
    const second = order.next([line('d', 1_900), line('e', 4_000)], now + 5, false);
    expect(ids(second)).toEqual(['d', 'b', 'c']);
    expect(ids(order.next([], now + 10, true))).toEqual(['e']);
  });

  it('hold a line dated ahead of the clock no longer than the window after it was read', () => {
    const order = new SettlingOrder<{ id: string; at: string }>(SETTLE);
    expect(order.next([line('ahead', 60_000)], T0, true)).toEqual([]);
    expect(ids(order.next([], T0 + 999, true))).toEqual([]);
    expect(ids(order.next([], T0 + 1_000, true))).toEqual(['ahead']);
  });
});

describe('lines shown as they are read (the deployed tail, and the settling order above)', () => {
  it('are late only when a line of a later time was shown before them; a time that cannot be read moves nothing', () => {
    const lateLines = new LateLines();
    const shown = [10, 20, 20, 15, Number.NaN, 18, 25].map((ms) => lateLines.shown(T0 + ms));
    expect(shown).toEqual([false, false, false, true, false, true, false]);
  });
});
