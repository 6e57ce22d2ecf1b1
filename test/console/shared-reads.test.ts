/**
 * The console's shared reads: an answer reused for its interval, a read in flight joined by the refreshes that come
 * meanwhile, and a read that throws not kept. The clock is the test's, moved by hand.
 */
import { describe, expect, it } from 'vitest';
import { ReadsInFlight, SharedReads } from '../../lib/console/shared-reads';

interface Answer {
  readonly at: number;
  readonly value: string;
  readonly previous?: string;
}

function clockAndReads() {
  let now = 1_000_000;
  const reads = new SharedReads<Answer>(() => now, 30_000);
  return { reads, move: (ms: number) => (now += ms) };
}

describe('shared reads', () => {
  it('reuses an answer until its interval ends, then reads again, told the last answer', async () => {
    const { reads, move } = clockAndReads();
    let calls = 0;
    const read = async (at: number, previous: Answer | undefined) => ({
      at,
      value: `read ${++calls}`,
      ...(previous ? { previous: previous.value } : {}),
    });
    const first = await reads.read('stack', read);
    move(29_999);
    expect(await reads.read('stack', read)).toBe(first);
    move(1);
    expect(await reads.read('stack', read)).toEqual({ at: 1_030_000, value: 'read 2', previous: 'read 1' });
    expect(calls).toBe(2);
  });

  it('reads again once the clock is set back, rather than reusing an answer from ahead of it as just made', async () => {
    const { reads, move } = clockAndReads();
    let calls = 0;
    const read = async (at: number) => ({ at, value: `read ${++calls}` });
    await reads.read('stack', read);
    move(-3_600_000);
    expect(await reads.read('stack', read)).toEqual({ at: 1_000_000 - 3_600_000, value: 'read 2' });
    expect(calls).toBe(2);
  });

  it('makes refreshes that come while a read runs wait for it, and keeps keys apart', async () => {
    const { reads } = clockAndReads();
    let calls = 0;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const read = async (at: number) => {
      calls++;
      await held;
      return { at, value: 'held' };
    };
    const joined = [reads.read('stack', read), reads.read('stack', read), reads.read('stack', read)];
    const other = reads.read('other', read);
    release();
    const answers = await Promise.all(joined);
    expect(new Set(answers).size).toBe(1);
    expect(await other).toEqual({ at: 1_000_000, value: 'held' });
    expect(calls).toBe(2);
  });

  it('does not keep a read that throws: the refreshes waiting for it fail with it, the next one reads again', async () => {
    const { reads } = clockAndReads();
    const failing = async (): Promise<Answer> => {
      throw new Error('no answer');
    };
    const both = [reads.read('stack', failing), reads.read('stack', failing)];
    for (const result of await Promise.allSettled(both)) expect(result.status).toBe('rejected');
    expect(await reads.read('stack', async (at) => ({ at, value: 'answered' }))).toEqual({
      at: 1_000_000,
      value: 'answered',
    });
  });
});

describe('reads in flight', () => {
  it('joins a read while it runs and forgets it once it ends, answered or failed: the next is started afresh', async () => {
    const reads = new ReadsInFlight<{ readonly answer: Promise<string>; readonly n: number }>();
    let started = 0;
    let settle: { resolve: (v: string) => void; reject: (e: Error) => void } = {
      resolve: () => {},
      reject: () => {},
    };
    const start = () => ({
      n: ++started,
      answer: new Promise<string>((resolve, reject) => {
        settle = { resolve, reject };
      }),
    });
    const first = reads.join('/api/overview', start);
    expect(reads.join('/api/overview', start)).toBe(first);
    expect(reads.join('/api/failures', start).n).toBe(2);
    settle.resolve('failures');
    const failures = reads.join('/api/failures', start);
    expect(failures.n).toBe(2);
    await failures.answer;
    expect(reads.join('/api/failures', start).n).toBe(3);
    settle.reject(new Error('no answer'));
    await expect(reads.join('/api/failures', start).answer).rejects.toThrow('no answer');
    expect(reads.join('/api/failures', start).n).toBe(4);
  });
});
