/**
 * The console's jobs: what the page polls while a redrive, purge or replay runs, and how stopping the console
 * ends them.
 */
import { describe, expect, it } from 'vitest';
import { CliError, errorLine } from '../../lib/cli/errors';
import { type Job, Jobs, jobOutput } from '../../lib/console/jobs';

/** Work that runs until the test settles it. */
function pending() {
  let settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void } | undefined;
  const promise = new Promise<unknown>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { work: () => promise, settle: () => settle as NonNullable<typeof settle> };
}

describe('console jobs', () => {
  it('answers at once with a running job, then records its result or its one-line error', async () => {
    const jobs = new Jobs();
    const ok = pending();
    const bad = pending();
    const bug = pending();
    const done = jobs.start('redrive', 'redrive events: all', ok.work);
    const failed = jobs.start('purge', 'purge the events queue', bad.work);
    const crashed = jobs.start('purge', 'purge the orders queue', bug.work);
    expect(done).toMatchObject({
      kind: 'redrive',
      label: 'redrive events: all',
      state: 'running',
      progress: null,
      notes: [],
      finishedAt: null,
    });
    expect(jobs.running()).toEqual([crashed, failed, done]);
    ok.settle().resolve({ moved: 2 });
    bad.settle().reject(new CliError('AWS denied the request'));
    bug.settle().reject(new TypeError('x is undefined'));
    await jobs.idle(1);
    expect(done).toMatchObject({ state: 'done', result: { moved: 2 }, error: null });
    expect(failed).toMatchObject({ state: 'failed', result: null, error: 'AWS denied the request' });
    expect(crashed).toMatchObject({ state: 'failed', error: 'TypeError: x is undefined' });
    expect(done.finishedAt).not.toBeNull();
    expect(jobs.running()).toEqual([]);
    expect(jobs.get(done.id)).toBe(done);
  });

  it('keeps the newest 50 finished jobs and every running one', async () => {
    const jobs = new Jobs();
    const first = jobs.start('purge', 'job 0', async () => ({}));
    await jobs.idle(1);
    const still = pending();
    const running = jobs.start('redrive', 'still running', still.work);
    for (let n = 1; n <= 50; n++) {
      jobs.start('purge', `job ${n}`, async () => ({}));
      // Lets the job finish (its work resolves at once) without waiting for the one still running.
      await new Promise((next) => setImmediate(next));
    }
    jobs.start('purge', 'job 51', async () => ({}));
    expect(jobs.get(first.id)).toBeUndefined();
    expect(jobs.get(running.id)).toBe(running);
    expect(jobs.list().filter((j) => j.state === 'done')).toHaveLength(50);
    still.settle().resolve({});
    await jobs.idle(1);
  });

  it('stops running jobs at their next safe point, waits for them, and refuses new ones', async () => {
    const jobs = new Jobs();
    const finished = jobs.start('purge', 'purge the events queue', async () => ({ purged: 1 }));
    await jobs.idle(1);
    let seen: AbortSignal | undefined;
    const running = jobs.start('redrive', 'redrive events: all', (_output, signal) => {
      seen = signal;
      return new Promise((resolve) =>
        // Like a redrive handing back what it holds: it ends a while after it is asked to stop.
        signal.addEventListener('abort', () => setImmediate(() => resolve({ stoppedBy: 'Interrupted' })), {
          once: true,
        }),
      );
    });
    expect(seen?.aborted).toBe(false);
    const stopped = await jobs.stop();
    expect(stopped).toEqual([running]);
    expect(stopped).not.toContain(finished);
    expect(running).toMatchObject({ state: 'done', result: { stoppedBy: 'Interrupted' } });
    expect(() => jobs.start('purge', 'too late', async () => ({}))).toThrow(
      'the console is stopping: no new job was started',
    );
  });

  it('turns the progress, notes and questions of a command core into job fields, never confirming', async () => {
    const job = { progress: null, notes: [] } as unknown as Job;
    const output = jobOutput(job);
    const bar = output.progress('moved', 10);
    expect(job.progress).toEqual({ done: 0, total: 10, label: 'moved' });
    bar.update(4);
    expect(job.progress).toEqual({ done: 4, total: 10, label: 'moved' });
    bar.update(5, 12);
    expect(job.progress).toEqual({ done: 5, total: 12, label: 'moved' });
    output.progress('scanned').update(3);
    expect(job.progress).toEqual({ done: 3, total: null, label: 'scanned' });
    output.note('2 messages returned');
    expect(job.notes).toEqual(['2 messages returned']);
    expect(await output.confirm('purge?')).toBe(false);
    expect([output.json, output.interactive]).toEqual([true, false]);
  });

  it('says an expected error in its own words and a bug with its name', () => {
    expect(errorLine(new CliError('unknown queue "nope"'))).toBe('unknown queue "nope"');
    expect(errorLine(new RangeError('bad'))).toBe('RangeError: bad');
    expect(errorLine('plain')).toBe('plain');
  });
});
