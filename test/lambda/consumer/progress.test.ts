import { describe, expect, it } from 'vitest';
import { MAX_PROGRESS_BYTES, ProgressReporter, progressJson } from '../../../lambda/consumer/progress';

/** A clock the test moves, and alarms it rings when their time comes. */
function fakeClock() {
  let now = 0;
  let alarms: Array<{ at: number; ring: () => void }> = [];
  return {
    clock: {
      now: () => now,
      alarm: (delayMs: number, ring: () => void) => {
        const alarm = { at: now + delayMs, ring };
        alarms.push(alarm);
        return () => {
          alarms = alarms.filter((a) => a !== alarm);
        };
      },
    },
    advance(ms: number) {
      now += ms;
      const due = alarms.filter((a) => a.at <= now);
      alarms = alarms.filter((a) => a.at > now);
      for (const alarm of due) alarm.ring();
    },
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('job progress writes', () => {
  it('writes at most once per second, always the latest value, and the pending one when the attempt settles', async () => {
    const { clock, advance } = fakeClock();
    const writes: string[] = [];
    const reporter = new ProgressReporter(
      async (json, at) => {
        writes.push(`${json}@${at.getTime()}`);
        return true;
      },
      clock,
      () => {},
    );
    for (let n = 1; n <= 10; n++) reporter.report(String(n));
    await flush();
    expect(writes).toEqual(['1@0']);
    advance(999);
    await flush();
    expect(writes).toEqual(['1@0']);
    advance(1);
    await flush();
    expect(writes).toEqual(['1@0', '10@1000']);
    reporter.report('11');
    reporter.report('12');
    await reporter.settle();
    expect(writes).toEqual(['1@0', '10@1000', '12@1000']);
    reporter.report('13');
    advance(5000);
    await flush();
    expect(writes).toHaveLength(3);
  });

  it('writes the value reported during a slow write after it, never two at once', async () => {
    const { clock, advance } = fakeClock();
    const writes: string[] = [];
    let finish: (applied: boolean) => void = () => {};
    let inFlight = 0;
    let mostAtOnce = 0;
    const reporter = new ProgressReporter(
      (json) => {
        writes.push(json);
        inFlight++;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
        return new Promise((resolve) => {
          finish = (applied) => {
            inFlight--;
            resolve(applied);
          };
        });
      },
      clock,
      () => {},
    );
    reporter.report('1');
    advance(3000);
    reporter.report('2');
    await flush();
    expect(writes).toEqual(['1']);
    finish(true);
    await flush();
    expect(writes).toEqual(['1', '2']);
    const settled = reporter.settle();
    finish(true);
    await settled;
    expect(mostAtOnce).toBe(1);
  });

  it('stops writing once the record refused a write (the attempt is over), and logs a failed write', async () => {
    const { clock, advance } = fakeClock();
    const writes: string[] = [];
    const warnings: string[] = [];
    let answer: boolean | Error = new Error('throttled');
    const reporter = new ProgressReporter(
      async (json) => {
        writes.push(json);
        if (answer instanceof Error) throw answer;
        return answer;
      },
      clock,
      (message, error) => warnings.push(`${message}: ${(error as Error).message}`),
    );
    reporter.report('1');
    await flush();
    expect(warnings).toEqual(['could not record the job progress: throttled']);
    answer = false;
    advance(1000);
    reporter.report('2');
    await flush();
    advance(1000);
    reporter.report('3');
    await reporter.settle();
    expect(writes).toEqual(['1', '2']);
  });
});

describe('a progress value', () => {
  it('is a percentage from 0 to 100 or JSON of at most 1 KiB', () => {
    expect(progressJson(0)).toBe('0');
    expect(progressJson(100)).toBe('100');
    expect(progressJson({ step: 2, of: 5 })).toBe('{"step":2,"of":5}');
    expect(progressJson('uploading')).toBe('"uploading"');
    const fits = 'x'.repeat(MAX_PROGRESS_BYTES - 2);
    expect(progressJson(fits)).toHaveLength(MAX_PROGRESS_BYTES);
  });

  it.each([
    [-1, /-1 is not a percentage/],
    [100.5, /100.5 is not a percentage/],
    [Number.POSITIVE_INFINITY, /Infinity is not a percentage/],
    [undefined, /not JSON/],
    [() => 1, /not JSON/],
    [10n, /not JSON/],
    ['x'.repeat(MAX_PROGRESS_BYTES - 1), /1025 bytes of JSON, more than 1024/],
  ])('refuses %s, saying why', (value, why) => {
    expect(() => progressJson(value)).toThrow(why);
  });
});
