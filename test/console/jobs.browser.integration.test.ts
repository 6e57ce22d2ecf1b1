/**
 * The console's Jobs page against the real local mode (emulators, dedupe table, job consumer) and the real
 * `hookline console --local` process: its API says of every job, state and count what `hookline jobs list/show
 * --local` print, its Cancel does and refuses what `hookline jobs cancel` does, and in a real headless Chromium a
 * person lists, opens and cancels jobs, hostile ids, results and reasons shown as text, never run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Duration } from 'aws-cdk-lib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer } from '../../lambda/producer';
import type { JobStatus } from '../../lambda/shared/job-record';
import { STATE_FILE_NAME } from '../../lambda/shared/local-state';
import { type ConsoleInChromium, consoleProcessInChromium } from '../helpers/console-browser';
import { doubleJob, echoJob, failingJob } from '../helpers/local/jobs';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const JOB_CONSUMER = fileURLToPath(new URL('../helpers/local/job-consumer.ts', import.meta.url));
const run = promisify(execFile);

/** Ids and strings a sender controls, written to run script wherever they were put into the page as markup. */
const HOSTILE_ID = '<img/src=x/onerror=window.__xss=1>';
const HOSTILE_RESULT = '<script>window.__xss=2</script><b>bold</b>';
const HOSTILE_REASON = '<img src=x onerror="window.__xss=3">';
const COMPLETED = ['double-1', 'double-2', 'double-3', HOSTILE_ID];
const FAILED = 'fail-1';
/** A second failed job, sent by the delete test (the lists and counts before it know one). */
const FAILED_TOO = 'fail-2';
const SCHEDULED = ['later-1', 'later-2'];
/** Whom the first completed job is for. */
const TENANT = 'acct_console';

let pipeline: TestPipeline;
/** Set once the last test stopped local mode itself. */
let pipelineStopped = false;
let stateDir: string;
let shown: ConsoleInChromium<{ url: URL }> | undefined;
let consoleUrl: URL;
let page: Page;

/** The real CLI on this local mode, as an operator runs it. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'bin/hookline.ts', ...args, '--local'],
      { env: { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The console's API, with this run's token, as the page calls it. */
async function api(method: 'GET' | 'POST', path: string) {
  const answer = await fetch(new URL(path, consoleUrl), {
    method,
    headers: { 'x-hookline-token': consoleUrl.searchParams.get('token') ?? '' },
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

const byId = (a: JobStatus, b: JobStatus) => a.id.localeCompare(b.id);

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-jobs-'));
  const config = testConfig(
    { jobs: { maxReceiveCount: 3, consumer: { entry: JOB_CONSUMER, timeout: Duration.seconds(30) } } },
    { dedupe: { enabled: true } },
  );
  pipeline = await startTestPipeline(config, { stateDir });
  const producer = createProducer({ local: join(stateDir, STATE_FILE_NAME) });
  for (const [i, id] of COMPLETED.slice(0, 3).entries())
    await producer.send(doubleJob, { n: i }, { id, ...(i === 0 ? { tenant: TENANT } : {}) });
  await producer.send(echoJob, { text: HOSTILE_RESULT }, { id: HOSTILE_ID });
  await producer.send(failingJob, { why: HOSTILE_REASON }, { id: FAILED });
  for (const id of SCHEDULED) await producer.send(doubleJob, { n: 9 }, { id, delay: { minutes: 10 } });
  const ended = (id: string) =>
    pipeline.events.some((e) => e.id === id && (e.event === 'processed' || e.event === 'dead-lettered'));
  await pipeline.waitFor(() => [...COMPLETED, FAILED].every(ended), 60_000, 'every due job ran');
  shown = consoleProcessInChromium(stateDir);
  ({ url: consoleUrl, page } = await shown.started);
}, 240_000);

afterAll(async () => {
  await shown?.close();
  if (!pipelineStopped) await pipeline?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe('the Jobs API says what hookline jobs list/show/cancel say', () => {
  it('lists every job of each state once, newest first, as many as jobs list counts, each as it shows it', async () => {
    for (const state of ['', 'completed', 'scheduled', 'dead-lettered']) {
      const listed = await cli(
        'jobs',
        'list',
        ...(state ? ['--state', state] : []),
        '--limit',
        '1000',
        '--json',
      );
      const fromCli = JSON.parse(listed.stdout) as { total: number; jobs: JobStatus[] };
      const fromConsole = (await api('GET', `/api/job-records?state=${state}`)).body as {
        total: number;
        newer: number;
        items: JobStatus[];
      };
      expect({ state, total: fromConsole.total, newer: fromConsole.newer }).toEqual({
        state,
        total: fromCli.total,
        newer: 0,
      });
      expect([...fromConsole.items].sort(byId)).toEqual([...fromCli.jobs].sort(byId));
      const enqueued = fromConsole.items.map((j) => j.enqueuedAt ?? '');
      expect(enqueued).toEqual([...enqueued].sort().reverse());
    }
    const all = (await api('GET', '/api/job-records')).body as { total: number };
    expect(all.total).toBe(COMPLETED.length + 1 + SCHEDULED.length);
  });

  it("shows a job as jobs show does, with its dedupe key, and a failed one's reason", async () => {
    for (const id of [HOSTILE_ID, FAILED]) {
      const shown = await cli('jobs', 'show', id, '--json');
      const answer = await api('GET', `/api/job-records/${encodeURIComponent(id)}`);
      expect(answer).toMatchObject({
        status: 200,
        body: { job: JSON.parse(shown.stdout), dedupeKey: `job#${id}` },
      });
    }
    // Whom a job is for and how far its handler got, from its record.
    const forTenant = (await api('GET', '/api/job-records/double-1')).body as {
      job: JobStatus;
      tenants: string[];
    };
    expect([forTenant.job.tenant, forTenant.tenants]).toEqual([TENANT, [TENANT]]);
    const echoed = (await api('GET', `/api/job-records/${encodeURIComponent(HOSTILE_ID)}`)).body as {
      job: JobStatus;
    };
    expect(echoed.job.progress).toEqual({ chars: HOSTILE_RESULT.length });
    const failed = (await api('GET', `/api/job-records/${FAILED}`)).body as { job: JobStatus };
    expect(failed.job).toMatchObject({
      state: 'dead-lettered',
      reason: expect.stringContaining(HOSTILE_REASON),
    });
  });

  it('refuses to cancel what jobs cancel refuses, in its words, and cancels what it cancels', async () => {
    const refusedByCli = await cli('jobs', 'cancel', 'double-1');
    expect(refusedByCli.code).toBe(1);
    expect(await api('POST', '/api/job-records/double-1/cancel')).toEqual({
      status: 400,
      body: { error: refusedByCli.stderr.trim().replace(/^error: /, '') },
    });
    expect(await api('POST', '/api/job-records/no-such-job/cancel')).toEqual({
      status: 404,
      body: {
        error:
          'job no-such-job not found: it was never sent with this id, or its record expired after the dedupe window',
      },
    });
    // A forged cancel (a cross-site form carries the cookie at most, never the header) changes nothing.
    const forged = await fetch(new URL('/api/job-records/later-2/cancel', consoleUrl), {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
    });
    expect(forged.status).toBe(403);
    expect(((await api('GET', '/api/job-records/later-2')).body.job as JobStatus).state).toBe('scheduled');
    const cancelled = await api('POST', '/api/job-records/later-2/cancel');
    expect(cancelled).toMatchObject({
      status: 200,
      body: {
        id: 'later-2',
        cancelled: true,
        was: 'scheduled',
        summary: ['cancelled job later-2 (it was scheduled): the consumer skips it'],
      },
    });
    expect(JSON.parse((await cli('jobs', 'show', 'later-2', '--json')).stdout)).toMatchObject({
      state: 'cancelled',
    });
  });
});

describe('the Jobs page in a browser', () => {
  it('lists the jobs, filters them by state, and shows hostile strings as text', async () => {
    await page.goto(consoleUrl.toString());
    await page.click('header nav a:has-text("Jobs")');
    await page.locator(`#jobs tr[data-job="${FAILED}"]`).waitFor();
    expect(await page.locator('#jobs tbody tr').count()).toBe(COMPLETED.length + 1 + SCHEDULED.length);
    expect(await page.locator('[data-page-counts]').textContent()).toBe(
      'Showing 1-7 of 7 jobs, newest first.',
    );
    await page.selectOption('select[name="state"]', 'scheduled');
    await page.locator('[data-page-counts]', { hasText: 'of 1 matching jobs' }).waitFor();
    expect(await page.locator('#jobs tbody tr').getAttribute('data-job')).toBe('later-1');
    await page.selectOption('select[name="state"]', 'completed');
    const hostileRow = page.locator('#jobs tbody tr').filter({ hasText: HOSTILE_ID });
    expect(await hostileRow.locator('[data-col="outcome"]').textContent()).toBe(
      JSON.stringify({ echoed: HOSTILE_RESULT }),
    );
    await hostileRow.locator('a').click();
    await page.locator('[data-field="dedupe-key"]').waitFor();
    expect(await page.locator('[data-field="id"]').textContent()).toBe(HOSTILE_ID);
    expect(await page.locator('[data-field="dedupe-key"]').textContent()).toBe(`job#${HOSTILE_ID}`);
    expect(await page.locator('[data-field="result"]').textContent()).toContain(HOSTILE_RESULT);
    expect(await page.locator('[data-field="progress"]').textContent()).toMatch(
      new RegExp(`^\\{"chars":${HOSTILE_RESULT.length}\\} \\(at \\d{4}-`),
    );
    expect(await page.locator('b', { hasText: 'bold' }).count()).toBe(0);
    await page.goto(`${new URL('/', consoleUrl)}#/job/double-1`);
    await page.locator('[data-field="id"]', { hasText: 'double-1' }).waitFor();
    expect(await page.locator('[data-field="tenant"]').textContent()).toBe(TENANT);
    await page.goto(`${new URL('/', consoleUrl)}#/job/${FAILED}`);
    expect(await page.locator('[data-field="reason"]').textContent()).toContain(HOSTILE_REASON);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.click('a:has-text("Event and trace")');
    await page.locator('h2', { hasText: `Event ${FAILED}` }).waitFor();
  });

  it('deletes dead-lettered jobs from the Failures page and the event page once confirmed: failed list lists them no more, jobs show says an operator deleted them', async () => {
    const producer = createProducer({ local: join(stateDir, STATE_FILE_NAME) });
    await producer.send(failingJob, { why: 'deleted from the event page' }, { id: FAILED_TOO });
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.id === FAILED_TOO && e.event === 'dead-lettered'),
      30_000,
      'the second failing job dead-lettered',
    );
    await page.goto(`${new URL('/', consoleUrl)}#/failures/jobs`);
    const row = (id: string) => page.locator(`.group tr[data-id="${id}"]`);
    await row(FAILED).waitFor();
    await row(FAILED_TOO).waitFor();
    await row(FAILED).locator('input[type="checkbox"]').check();
    await page.click('button:has-text("Delete selected (1)...")');
    expect(await page.locator('[data-delete-confirm] p').textContent()).toMatch(
      /^Delete 1 event from the jobs dead-letter queue, every copy of each\? This cannot\s+be undone/,
    );
    await page.click('[data-delete-confirm] button:has-text("Delete 1 event")');
    const done = page.locator('[data-job-state="done"]');
    await done.waitFor();
    expect(await done.locator('.result').textContent()).toBe(
      `deleted 1 event from the jobs dead-letter queue: ${FAILED}left in the dead-letter queue: 1`,
    );
    // The list is read again once the delete ended: the deleted letter is gone, the other one stays.
    await row(FAILED).waitFor({ state: 'detached' });
    expect(await row(FAILED_TOO).count()).toBe(1);

    await row(FAILED_TOO).locator('a').click();
    await page.click('button:has-text("Delete this event...")');
    expect(await page.locator('[data-delete-confirm] p').textContent()).toMatch(/This cannot\s+be undone/);
    await page.click('[data-delete-confirm] button:has-text("Delete 1 event")');
    await page.locator('[data-job-state="done"]').waitFor();
    await page.locator('p', { hasText: 'Not in any dead-letter queue.' }).waitFor();
    expect(await page.locator('[data-job-state="done"] .result').textContent()).toContain(
      `deleted 1 event from the jobs dead-letter queue: ${FAILED_TOO}`,
    );

    const [listed, ...shown] = await Promise.all([
      cli('failed', 'list', 'jobs', '--json'),
      ...[FAILED, FAILED_TOO].map((id) => cli('jobs', 'show', id)),
    ]);
    expect([listed.code, (JSON.parse(listed.stdout) as { messages: unknown[] }).messages]).toEqual([0, []]);
    for (const job of shown) {
      expect(job.stdout).toMatch(
        /^state +dead-lettered\n +deleted from its dead-letter queue by an operator at \d{4}-/m,
      );
      expect(job.stdout).toMatch(/^deleted +\d{4}-/m);
    }
  });

  it('cancels the jobs matching a tenant filter once the count is confirmed, as jobs cancel --tenant does, changing nothing before', async () => {
    const producer = createProducer({ local: join(stateDir, STATE_FILE_NAME) });
    for (const id of ['bulk-1', 'bulk-2'])
      await producer.send(doubleJob, { n: 1 }, { id, tenant: 'acct_closed', delay: { minutes: 10 } });
    await page.goto(`${new URL('/', consoleUrl)}#/jobs`);
    await page.fill('input[name="tenant"]', 'acct_closed');
    await page.press('input[name="tenant"]', 'Enter');
    await page.locator('[data-page-counts]', { hasText: 'of 2 matching jobs' }).waitFor();
    await page.click('button:has-text("Cancel matching...")');
    const question = page.locator('[data-cancel-matching] p');
    await question.waitFor();
    expect(await question.textContent()).toMatch(
      /^Cancel the 2 jobs that match these filters and have not\s+started\? 2 jobs match --tenant acct_closed \(2 scheduled\): bulk-1, bulk-2\./,
    );
    // Asked, nothing changed yet; a job sent before the answer is not among those counted.
    expect(JSON.parse((await cli('jobs', 'show', 'bulk-1', '--json')).stdout).state).toBe('scheduled');
    await producer.send(doubleJob, { n: 1 }, { id: 'bulk-3', tenant: 'acct_closed', delay: { minutes: 10 } });
    await page.click('[data-cancel-matching] button:has-text("Cancel 2 jobs")');
    // A console job, as a redrive is: its panel shows the command's summary once it ends.
    await page.locator('[data-cancel-matching] [data-job-state="done"]').waitFor();
    expect(await page.locator('[data-cancel-matching] [data-job-state="done"] .result').textContent()).toBe(
      'cancelled 2 jobs of the 2 confirmed matching --tenant acct_closed: the consumer skips them' +
        '1 job matching since was not confirmed, and left alone: hookline jobs cancel --tenant acct_closed --local names them',
    );
    await page.locator('#jobs tr[data-job="bulk-1"] [data-col="state"]', { hasText: 'cancelled' }).waitFor();
    const listed = JSON.parse((await cli('jobs', 'list', '--state', 'cancelled', '--json')).stdout) as {
      jobs: { id: string }[];
    };
    expect(listed.jobs.map((j) => j.id).filter((id) => id.startsWith('bulk-'))).toEqual(['bulk-1', 'bulk-2']);
    expect(JSON.parse((await cli('jobs', 'show', 'bulk-3', '--json')).stdout).state).toBe('scheduled');
    // Again: the one sent meanwhile is counted now; once cancelled, nothing matches, refused in the CLI's words.
    await page.click('button:has-text("Cancel matching...")');
    await page.click('[data-cancel-matching] button:has-text("Cancel 1 job")');
    await page
      .locator('[data-cancel-matching] [data-job-state="done"] .result', {
        hasText: 'cancelled 1 job of the 1 confirmed matching --tenant acct_closed',
      })
      .waitFor();
    await page.click('button:has-text("Cancel matching...")');
    expect(await page.locator('[data-cancel-matching] .error').textContent()).toMatch(
      /^no job matched --tenant acct_closed in a state a cancel changes/,
    );
  });

  it('drops a Cancel matching question once the filters change, so its button never cancels jobs it did not count', async () => {
    const producer = createProducer({ local: join(stateDir, STATE_FILE_NAME) });
    await producer.send(doubleJob, { n: 1 }, { id: 'asked-1', tenant: 'acct_asked', delay: { minutes: 10 } });
    for (const id of ['other-1', 'other-2'])
      await producer.send(doubleJob, { n: 1 }, { id, tenant: 'acct_other', delay: { minutes: 10 } });
    await page.goto(`${new URL('/', consoleUrl)}#/jobs`);
    await page.fill('input[name="tenant"]', 'acct_asked');
    await page.press('input[name="tenant"]', 'Enter');
    await page.locator('[data-page-counts]', { hasText: 'of 1 matching job' }).waitFor();
    await page.click('button:has-text("Cancel matching...")');
    await page.locator('[data-cancel-matching] button:has-text("Cancel 1 job")').waitFor();
    await page.fill('input[name="tenant"]', 'acct_other');
    await page.press('input[name="tenant"]', 'Enter');
    await page.locator('[data-page-counts]', { hasText: 'of 2 matching jobs' }).waitFor();
    // The question counted acct_asked's job: asked again, it counts acct_other's.
    expect(await page.locator('[data-cancel-matching] p').count()).toBe(0);
    expect(await page.locator('[data-cancel-matching] button.danger').count()).toBe(0);
    for (const id of ['asked-1', 'other-1', 'other-2'])
      expect(JSON.parse((await cli('jobs', 'show', id, '--json')).stdout).state).toBe('scheduled');
  });

  it('cancels a scheduled job after a confirmation reached by keyboard, then says a second cancel changed nothing, as the CLI does', async () => {
    await page.goto(`${new URL('/', consoleUrl)}#/job/later-1`);
    expect(await page.locator('[data-field="state"]').textContent()).toBe('scheduled');
    await page.locator('button', { hasText: 'Cancel...' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('button', { hasText: 'Cancel the job' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('[role="status"] [data-cancelled]').textContent()).toBe(
      'cancelled job later-1 (it was scheduled): the consumer skips it',
    );
    await page.locator('[data-field="state"]', { hasText: 'cancelled' }).waitFor();
    await page.click('button:has-text("Cancel...")');
    await page.click('button:has-text("Cancel the job")');
    const again = 'job later-1 was already cancelled: nothing changed; the consumer skips it';
    await page.locator('[role="status"] [data-cancelled]', { hasText: again }).waitFor();
    expect(await page.locator('[role="status"] [data-cancelled]').textContent()).toBe(again);
    expect(await page.locator('[data-cancel] .error').count()).toBe(0);
  });

  it('marks a job page whose Refresh failed once local mode stopped as not current, keeping what it read', async () => {
    pipelineStopped = true;
    await pipeline.stop();
    await page.click('h2 button:has-text("Refresh")');
    await page.locator('[data-stale]').waitFor();
    expect(await page.locator('[data-stale]').textContent()).toMatch(
      /local mode is not running.*Not current/,
    );
    expect(await page.locator('[data-field="state"]').textContent()).toBe('cancelled');
  });
});
