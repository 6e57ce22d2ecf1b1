/** The Jobs page says of a job's state what `hookline jobs show` says. */
import { describe, expect, it } from 'vitest';
import { renderJobShow } from '../../lib/cli/jobs';
import { withStateNote } from '../../lib/console/job-records';
import { recordingOutput } from '../cli/helpers';

describe("the Jobs page's note on a state", () => {
  it('carries the line jobs show prints under a state that alone would mislead, and none where the state says it all', () => {
    const retrying = {
      id: 'flaky1',
      state: 'retrying' as const,
      queue: 'mail',
      attempt: 2,
      lastError: 'Error: smtp down',
      retryAt: '2026-12-02T09:00:40.000Z',
    };
    const redriven = {
      id: 'dead9',
      state: 'queued' as const,
      lastError: 'PermanentError: no template',
      redrivenAt: '2026-12-02T09:05:00.000Z',
    };
    for (const job of [retrying, redriven]) {
      const output = recordingOutput();
      renderJobShow(output, job);
      const note = withStateNote(job, {}).stateNote;
      expect(note).toBeDefined();
      expect(output.lines.join('\n')).toContain(note);
    }
    expect(withStateNote({ id: 'ok', state: 'completed', result: 1 }, {})).not.toHaveProperty('stateNote');
  });

  it("carries jobs show's line on a debounced job waiting to start: its sends, its due time, the last payload", () => {
    const pending = {
      id: 'doc-42',
      state: 'scheduled' as const,
      dueAt: '2026-12-02T09:00:40.000Z',
      debounce: { sends: 3 },
    };
    const output = recordingOutput();
    renderJobShow(output, pending);
    const note = withStateNote(pending, {}).stateNote;
    expect(note).toMatch(
      /^debounced: 3 sends in this cycle; runs once at 2026-12-02T09:00:40.000Z with the last one's payload/,
    );
    expect(output.lines.join('\n')).toContain(note);
    expect(withStateNote({ ...pending, state: 'completed' }, {})).not.toHaveProperty('stateNote');
  });

  it("counts a flow parent's children as jobs show does, failed ones too", () => {
    const parent = {
      id: 'report-1',
      state: 'child-failed' as const,
      reason: 'FlowChildFailedError: child part-2 dead-lettered: PermanentError: no data',
      children: {
        total: 3,
        completed: ['part-1'],
        pending: [],
        failed: { 'part-2': 'PermanentError: no data' },
        ignored: { 'part-3': 'Error: timeout' },
      },
    };
    const output = recordingOutput();
    renderJobShow(output, parent);
    const summary = withStateNote(parent, {}).childrenSummary;
    expect(summary).toBe(
      '1 of 3 completed, 1 dead-lettered with failParentOnFailure, 1 dead-lettered with ignoreDependencyOnFailure',
    );
    expect(output.lines).toContain(`children  ${summary}`);
    expect(withStateNote({ id: 'ok', state: 'completed' }, {})).not.toHaveProperty('childrenSummary');
  });
});
