import { describe, expect, it } from 'vitest';
import { partialReadNote } from '../../lib/console/ui/failure-groups';

describe("the failures page's By failure view", () => {
  it('says the counts are of the letters read when the read stopped at its bound', () => {
    expect(partialReadNote({ read: 5000, approximateDepth: 7200, capped: true })).toBe(
      "Counts are of the 5000 dead letters read (the read's bound): the queue may hold more of each failure.",
    );
  });

  it('says the counts are of fewer letters than the DLQ holds when another reader held some', () => {
    expect(partialReadNote({ read: 1, approximateDepth: 3, capped: false })).toBe(
      'Counts are of the 1 dead letter read of ~3: the others were held by another reader and may add to a failure.',
    );
  });

  it('adds no note when the read got every letter the DLQ holds', () => {
    expect(partialReadNote({ read: 3, approximateDepth: 3, capped: false })).toBeNull();
  });
});
