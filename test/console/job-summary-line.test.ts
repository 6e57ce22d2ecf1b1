import { describe, expect, it } from 'vitest';
import { jobSummaryLine } from '../../lib/console/ui/job-summary-line';
import type { Job } from '../../lib/console/ui/types';

const redrive = (result: Record<string, unknown>): Job => ({
  id: 'j',
  kind: 'redrive',
  label: 'redrive events: --type order.*',
  state: 'done',
  progress: null,
  notes: [],
  result,
  summary: null,
  error: null,
});

describe("a redrive job's line on the page, where the job has no summary of its own", () => {
  it("says how many another reader held as SQS counts them, approximately, in the CLI's words", () => {
    expect(jobSummaryLine(redrive({ moved: 4, skipped: 0, failed: 0, heldByOthers: 3 }))).toBe(
      'moved 4, skipped 0, failed 0, not read: about 3 messages were held by another reader (a redrive, the console, another failed list)',
    );
    expect(jobSummaryLine(redrive({ moved: 1, heldByOthers: 1 }))).toBe(
      'moved 1, skipped 0, failed 0, not read: about 1 message was held by another reader (a redrive, the console, another failed list)',
    );
  });

  it('says nothing of other readers when none held any', () => {
    expect(jobSummaryLine(redrive({ moved: 2, skipped: 0, failed: 0, heldByOthers: 0 }))).toBe(
      'moved 2, skipped 0, failed 0',
    );
  });
});

describe("a purge job's line on the page", () => {
  const purge = (result: Record<string, unknown>): Job => ({
    ...redrive(result),
    kind: 'purge',
    label: 'purge',
  });

  it('says SQS may still be deleting the messages deployed, and nothing of SQS in local mode, which is done', () => {
    expect(jobSummaryLine(purge({ purged: 3, finishesWithinSeconds: 60 }))).toBe(
      'purged ~3 messages (SQS may take up to 60 s to finish)',
    );
    expect(jobSummaryLine(purge({ purged: 3, finishesWithinSeconds: 0 }))).toBe('purged ~3 messages');
  });

  it('counts a single message in the singular', () => {
    expect(jobSummaryLine(purge({ purged: 1, finishesWithinSeconds: 0 }))).toBe('purged ~1 message');
  });
});

describe("a dry-run replay job's line on the page", () => {
  const replay = (result: Record<string, unknown>): Job => ({
    ...redrive(result),
    kind: 'replay',
    label: 'replay',
  });

  it('counts the events and messages, one in the singular, as the CLI does', () => {
    expect(jobSummaryLine(replay({ dryRun: true, matched: 1, byQueue: { events: 1 }, ignored: 0 }))).toBe(
      '1 archived event matches; would send 1 message (events 1), ignored 0',
    );
    expect(jobSummaryLine(replay({ dryRun: true, matched: 2, byQueue: { events: 2 }, ignored: 0 }))).toBe(
      '2 archived events match; would send 2 messages (events 2), ignored 0',
    );
  });

  it('says no count of ignored events where the routes did not apply (a replay to one queue, or of jobs)', () => {
    expect(jobSummaryLine(replay({ dryRun: true, matched: 2, byQueue: { orders: 2 }, ignored: null }))).toBe(
      '2 archived events match; would send 2 messages (orders 2)',
    );
    expect(
      jobSummaryLine(replay({ matched: 2, sent: 2, byQueue: { orders: 2 }, ignored: null, failed: 0 })),
    ).toBe('2 matched, sent 2 (orders 2), failed 0');
  });
});
