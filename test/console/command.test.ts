/**
 * What `hookline console` prints when Ctrl-C stops it with jobs running: how each job ended, in its command's
 * own words.
 */
import { describe, expect, it } from 'vitest';
import type { RedriveResult } from '../../lib/cli/redrive';
import { reportConsoleStarted, reportStoppedJobs } from '../../lib/console/command';
import type { Job } from '../../lib/console/jobs';
import { localTestTarget, recordingOutput } from '../cli/helpers';

function job(kind: string, label: string, ending: Partial<Job>): Job {
  return {
    id: label,
    kind,
    label,
    state: 'done',
    progress: null,
    notes: [],
    result: null,
    summary: null,
    error: null,
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T10:00:01.000Z',
    ...ending,
  };
}

const redriven = (extra: Partial<RedriveResult> = {}): RedriveResult => ({
  queue: 'events',
  method: 'one-by-one',
  deadLetterDepthBefore: 5,
  deadLetterDepthAfter: 3,
  moved: 2,
  skipped: 0,
  failed: 0,
  notDeleted: 0,
  deleteUnknown: 0,
  returned: 0,
  movedByAnotherRedrive: 0,
  bodyGone: [],
  superseded: [],
  failures: [],
  movedIds: ['a', 'b'],
  notFound: [],
  ...extra,
});

describe('hookline console stopped with jobs running', () => {
  it('says of each job whether Ctrl-C cut it short, it finished first or it failed, then what it did', () => {
    const output = recordingOutput();
    reportStoppedJobs(output, [
      job('redrive', 'redrive events: all', {
        result: redriven({ stoppedBy: 'Interrupted: stopped by Ctrl-C' }),
      }),
      job('redrive', 'redrive orders: all', {
        result: redriven({ queue: 'orders', deadLetterDepthAfter: 0 }),
      }),
      job('purge', 'purge the orders queue', { result: { queue: 'orders', deadLetter: false, purged: 1 } }),
      job('redrive', 'redrive orders: 1 selected', { state: 'failed', error: 'AWS throttled the request' }),
      job('purge', 'purge the events queue', { state: 'failed', error: 'AWS denied the request' }),
    ]);
    // A purge has no summary of a redrive's, and a failed job none at all: the next line is the next job's.
    const purge = output.lines.indexOf('purge the orders queue: finished before it could be stopped');
    expect(output.lines.slice(purge + 1)).toEqual([
      'redrive orders: 1 selected: failed: AWS throttled the request',
      'purge the events queue: failed: AWS denied the request',
    ]);
    expect(output.lines.filter((l) => l.includes(': '))).toEqual(
      expect.arrayContaining([
        'redrive events: all: stopped by Ctrl-C',
        'redrive orders: all: finished before it could be stopped',
        'purge the events queue: failed: AWS denied the request',
      ]),
    );
    // Each redrive's own summary follows its line; the failed purge has none.
    const orders = output.lines.indexOf('redrive orders: all: finished before it could be stopped');
    expect(output.lines.slice(0, orders)).toContain(
      'left in the dead-letter queue: 3 (hookline failed list events)',
    );
    expect(output.lines.slice(orders)).toContain('left in the dead-letter queue: 0');
    expect(output.lines.at(-1)).toBe('purge the events queue: failed: AWS denied the request');
  });

  it('does not blame Ctrl-C for a job that an error stopped early', () => {
    const output = recordingOutput();
    reportStoppedJobs(output, [
      job('redrive', 'redrive events: all', {
        result: redriven({ stoppedBy: 'ThrottlingException: Rate exceeded' }),
      }),
    ]);
    expect(output.lines[0]).toBe('redrive events: all: stopped early by an error');
    expect(output.lines).toContain(
      'stopped early: ThrottlingException: Rate exceeded; the rest stays in the DLQ, run it again',
    );
  });

  it("prints a delete cut short by Ctrl-C with failed delete's summary and the ids it did not reach", () => {
    const output = recordingOutput();
    reportStoppedJobs(output, [
      job('delete', 'delete from the events dead-letter queue: 2 selected', {
        result: {
          queue: 'events',
          deadLetterDepthBefore: 5,
          deadLetterDepthAfter: 4,
          deletedEvents: 1,
          deletedMessages: 1,
          deletedIds: ['a'],
          skipped: 0,
          failed: 1,
          failures: [{ messageId: '', id: 'b', reason: 'not reached: the scan stopped first' }],
          notFound: [],
          flowParents: [],
          stoppedBy: 'Interrupted: stopped by Ctrl-C',
        },
      }),
    ]);
    expect(output.lines).toEqual([
      'delete from the events dead-letter queue: 2 selected: stopped by Ctrl-C',
      'deleted 1 event from the events dead-letter queue: a',
      'not deleted: 1 (they stay in the DLQ)',
      '  b: not reached: the scan stopped first',
      'left in the dead-letter queue: 4',
      'stopped early: Interrupted: stopped by Ctrl-C; the rest stays in the DLQ',
    ]);
  });

  it('gives the jobs as one result in --json and prints nothing else; nothing at all without jobs', () => {
    const json = recordingOutput({ json: true });
    reportStoppedJobs(json, [job('purge', 'purge the events queue', { result: { purged: 2 } })]);
    expect(json.results).toEqual([
      {
        stoppedJobs: [
          {
            kind: 'purge',
            label: 'purge the events queue',
            state: 'done',
            error: null,
            result: { purged: 2 },
          },
        ],
      },
    ]);
    expect(json.lines).toEqual([]);
    const none = recordingOutput();
    reportStoppedJobs(none, []);
    expect([none.lines, none.results]).toEqual([[], []]);
  });
});

describe('hookline console started', () => {
  const server = { url: 'http://127.0.0.1:41523/?token=t0k', port: 41523 };

  it('gives a --json run its address as one JSON object on the first line of stdout, and a person a sentence', () => {
    const json = recordingOutput({ json: true });
    const written: string[] = [];
    reportConsoleStarted(json, (text) => written.push(text), localTestTarget(), server);
    expect(written).toEqual([`${JSON.stringify({ target: 'local mode', ...server })}\n`]);
    expect(JSON.parse(written[0] ?? '')).toEqual({ target: 'local mode', ...server });
    const human = recordingOutput();
    const lines: string[] = [];
    reportConsoleStarted(human, (text) => lines.push(text), localTestTarget(), server);
    expect(lines).toEqual([`hookline console for local mode: ${server.url}\n`]);
    expect(human.notes).toEqual(["the URL carries this run's token; Ctrl-C to stop"]);
  });
});
