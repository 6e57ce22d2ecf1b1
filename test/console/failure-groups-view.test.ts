import { describe, expect, it } from 'vitest';
import { partialReadNote, selectGroupLabel } from '../../lib/console/ui/failure-groups';

describe("the failures page's By failure view", () => {
  it('says the counts are of the letters read when the read stopped at its bound', () => {
    expect(partialReadNote({ read: 5000, approximateDepth: 7200, capped: true, heldByOthers: 0 })).toBe(
      "Counts are of the 5000 dead letters read (the read's bound): the queue may hold more of each failure.",
    );
  });

  it('says how many another reader held, as SQS counts them (about N) and the CLI says it', () => {
    expect(partialReadNote({ read: 1, approximateDepth: 3, capped: false, heldByOthers: 2 })).toBe(
      'Counts are of the 1 dead letter read of ~3: about 2 messages are held by another reader (a redrive, the console, another failed list) and may add to a failure.',
    );
    expect(partialReadNote({ read: 2, approximateDepth: 3, capped: false, heldByOthers: 1 })).toBe(
      'Counts are of the 2 dead letters read of ~3: about 1 message is held by another reader (a redrive, the console, another failed list) and may add to a failure.',
    );
  });

  it('does not blame another reader when none held any (a FIFO group behind a held one, a lagging count)', () => {
    expect(partialReadNote({ read: 1, approximateDepth: 3, capped: false, heldByOthers: 0 })).toBe(
      'Counts are of the 1 dead letter read of ~3: the others could not be read and may add to a failure.',
    );
  });

  it('adds no note when the read got every letter the DLQ holds', () => {
    expect(partialReadNote({ read: 3, approximateDepth: 3, capped: false, heldByOthers: 0 })).toBeNull();
  });

  it("names how many letters a group's checkbox selects, one in the singular", () => {
    expect(selectGroupLabel({ count: 1, key: 'f1a2' })).toBe('select the 1 dead letter of failure f1a2');
    expect(selectGroupLabel({ count: 4, key: 'f1a2' })).toBe('select the 4 dead letters of failure f1a2');
  });
});
