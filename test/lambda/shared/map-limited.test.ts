import { describe, expect, it } from 'vitest';
import { mapLimited } from '../../../lambda/shared/map-limited';

/** A piece of work the test ends when it chooses, so which items are at work at a moment is known exactly. */
interface Held {
  readonly item: number;
  readonly end: () => void;
  readonly fail: (error: Error) => void;
}

/** Work that records each item as it starts and waits until the test ends it. */
function heldWork() {
  const started: Held[] = [];
  const ended: number[] = [];
  let active = 0;
  let peak = 0;
  const work = (item: number) =>
    new Promise<string>((resolve, reject) => {
      active++;
      peak = Math.max(peak, active);
      const settle = () => {
        active--;
        ended.push(item);
      };
      started.push({
        item,
        end: () => {
          settle();
          resolve(`done ${item}`);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      });
    });
  return { work, started, ended, peak: () => peak, active: () => active };
}

/** Lets the lanes go on after a piece of work ended (its await resumes on a later microtask). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('mapLimited', () => {
  it.each([1, 3, 8])('never has more than %i items at work, and keeps that many busy', async (limit) => {
    let active = 0;
    let peak = 0;
    const items = range(20);
    const results = await mapLimited(items, limit, async (item) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 1 + (item % 3)));
      active--;
      return item * 2;
    });
    expect(peak).toBe(limit);
    expect(results).toStrictEqual(items.map((i) => i * 2));
  });

  it("takes items in their order and returns each result at its item's place, whatever order they end in", async () => {
    const { work, started, peak } = heldWork();
    const running = mapLimited(range(4), 2, work);
    expect(started.map((h) => h.item)).toStrictEqual([0, 1]);
    started[1]?.end();
    await settled();
    expect(started.map((h) => h.item)).toStrictEqual([0, 1, 2]);
    started[2]?.end();
    await settled();
    expect(started.map((h) => h.item)).toStrictEqual([0, 1, 2, 3]);
    started[3]?.end();
    started[0]?.end();
    expect(await running).toStrictEqual(['done 0', 'done 1', 'done 2', 'done 3']);
    expect(peak()).toBe(2);
  });

  it('resolves empty without calling work for no items', async () => {
    let calls = 0;
    expect(
      await mapLimited([], 4, async () => {
        calls++;
      }),
    ).toStrictEqual([]);
    expect(calls).toBe(0);
  });

  it('starts every item at once when the limit is larger than the items', async () => {
    const { work, started } = heldWork();
    const running = mapLimited(range(3), 10, work);
    expect(started.map((h) => h.item)).toStrictEqual([0, 1, 2]);
    for (const held of started) held.end();
    expect(await running).toStrictEqual(['done 0', 'done 1', 'done 2']);
  });

  it('takes no item once stopWhen says stop, lets those at work end, and returns only the results of those taken', async () => {
    const { work, started, ended } = heldWork();
    let stop = false;
    const running = mapLimited(range(10), 3, work, { stopWhen: () => stop });
    started[0]?.end();
    await settled();
    expect(started.map((h) => h.item)).toStrictEqual([0, 1, 2, 3]);
    stop = true;
    started[1]?.end();
    await settled();
    expect(started.map((h) => h.item)).toStrictEqual([0, 1, 2, 3]);
    started[2]?.end();
    started[3]?.end();
    const results = await running;
    expect(ended).toStrictEqual([0, 1, 2, 3]);
    expect(results).toStrictEqual(['done 0', 'done 1', 'done 2', 'done 3']);
    expect(results).toHaveLength(4);
  });

  it('asks stopWhen before the first item too', async () => {
    let calls = 0;
    const results = await mapLimited(range(3), 2, async () => calls++, { stopWhen: () => true });
    expect(results).toStrictEqual([]);
    expect(calls).toBe(0);
  });

  it('stops taking items at the first error, lets the other lanes end their item, then rejects with that error', async () => {
    const { work, started, ended } = heldWork();
    let outcome: unknown;
    const running = mapLimited(range(10), 3, work).then(
      (results) => ({ results }),
      (error: unknown) => ({ error }),
    );
    void running.then((o) => {
      outcome = o;
    });
    started[1]?.fail(new Error('lane 2 failed'));
    await settled();
    expect(started.map((h) => h.item)).toStrictEqual([0, 1, 2]);
    expect(outcome).toBeUndefined();
    started[0]?.fail(new Error('a later failure'));
    await settled();
    expect(outcome).toBeUndefined();
    started[2]?.end();
    expect(await running).toStrictEqual({ error: new Error('lane 2 failed') });
    expect(ended).toStrictEqual([1, 0, 2]);
    expect(started.map((h) => h.item)).toStrictEqual([0, 1, 2]);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s rather than run nothing', async (limit) => {
    await expect(mapLimited([1], limit, async (i) => i)).rejects.toThrow(
      `the limit must be a positive integer, got ${limit}`,
    );
  });
});
