import { describe, expect, it } from 'vitest';
import { deadLetterBadge } from '../../lib/console/ui/dead-letter-badge';

const overview = (queues: (number | null)[], others: (number | null)[] = []) => ({
  queues: queues.map((deadLettered) => ({ deadLettered })),
  deadLetterQueues: others.map((deadLettered) => ({ deadLettered })),
});

describe("the Failures tab's dead-letter count", () => {
  it("counts every queue's dead letters and those of the queues Scheduler fills", () => {
    expect(deadLetterBadge(overview([3, 0], [2]))).toBe('5');
  });

  it('shows nothing when every queue is known to hold none', () => {
    expect(deadLetterBadge(overview([0, 0], [0]))).toBeNull();
    expect(deadLetterBadge(null)).toBeNull();
  });

  it('never sums a queue that may not be read as if it held none: the count is marked partial', () => {
    expect(deadLetterBadge(overview([3, null]))).toBe('3+?');
    expect(deadLetterBadge(overview([0], [null]))).toBe('?');
  });
});
