import { afterEach, describe, expect, it } from 'vitest';
import { DELETE_FAILED_PERIOD } from '../../../lib/alarm-conditions';
import type { AlarmChange } from '../../../lib/local/alarm-watch';
import { LocalDeleteFailures } from '../../../lib/local/delete-failures';

const PERIOD_MS = DELETE_FAILED_PERIOD.toMilliseconds();
/** An EMF document as a consumer's batch writes it, with `count` failed deletes. */
const emf = (count: number) =>
  JSON.stringify({ _aws: { Timestamp: 0, CloudWatchMetrics: [] }, service: 'orders', DeleteFailed: count });

let watch: LocalDeleteFailures | undefined;
afterEach(() => watch?.stop());

/** A watch on a clock the test moves, from the start of a period. */
function watching() {
  const clock = { ms: 1_000 * PERIOD_MS + 1_000 };
  const changes: AlarmChange[] = [];
  watch = new LocalDeleteFailures({ onChange: (c) => changes.push(c), now: () => clock.ms });
  return { clock, changes, watch };
}

describe("local mode's DeleteFailed alarm", () => {
  it('crosses at the first failed delete of the third period in a row, and back once a whole period has none', () => {
    const { clock, changes, watch } = watching();
    watch.observeLine('orders', emf(2));
    clock.ms += PERIOD_MS;
    watch.observeLine('orders', emf(1));
    expect(changes).toStrictEqual([]);
    clock.ms += PERIOD_MS;
    watch.observeLine('events', emf(1));
    expect(changes.map((c) => [c.state, c.queues])).toStrictEqual([['ALARM', ['events', 'orders']]]);
    expect(changes[0]?.message).toMatch(
      /^Consumers failed to delete records .* in each of 3 periods in a row \(15 minutes; metric DeleteFailed\)\..*Which consumer and why: the consumers of events, orders, in their WARN lines "DeleteMessage failed" above/,
    );
    // Still in alarm through the next period: the three before it each had one.
    clock.ms += PERIOD_MS;
    watch.observeLine('other', 'a line that is no metric');
    watch.check();
    expect(changes).toHaveLength(1);
    clock.ms += PERIOD_MS;
    watch.check();
    expect(changes.map((c) => c.state)).toStrictEqual(['ALARM', 'OK']);
  });

  it('does not cross when a period without a failed delete breaks the run, nor for a document counting none', () => {
    const { clock, changes, watch } = watching();
    watch.observeLine('orders', emf(1));
    clock.ms += 2 * PERIOD_MS;
    watch.observeLine('orders', emf(0));
    watch.observe('orders', 0);
    watch.observeLine('orders', emf(1));
    clock.ms += PERIOD_MS;
    watch.observeLine('orders', emf(1));
    expect(changes).toStrictEqual([]);
    expect(watch.inAlarm).toBe(false);
  });
});
