/**
 * The web console in a real headless Chromium (Debian's, driven by playwright-core) against the real local mode
 * and the real `hookline console --local` process: what a person sees and does on each page, and what the
 * server refuses. Takes a screenshot of each page (into docs/console/, which the README shows, with
 * UPDATE_SCREENSHOTS=1).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plural } from '../../lambda/shared/plural';
import { connect } from '../../lib/cli/backend';
import { queueDepth } from '../../lib/cli/dead-letters';
import { failureKey } from '../../lib/cli/failure-groups';
import { sendWebhook } from '../../lib/cli/send';
import type { Target } from '../../lib/cli/target';
import { trace } from '../../lib/cli/trace';
import type { ResolvedConfig } from '../../lib/config';
import type { LocalMode } from '../../lib/local/local-mode';
import type { LocalEvent } from '../../lib/local/reporter';
import { localJournalPath } from '../../lib/local/state-file';
import { deadLetterMessage, recordingOutput, testBackend } from '../cli/helpers';
import {
  type ConsoleInChromium,
  consoleProcessInChromium,
  requireChromium,
} from '../helpers/console-browser';
import { startExampleLocalMode } from '../helpers/local/example-local-mode';
import { waitFor } from '../helpers/wait-for';

/**
 * The README's screenshots are rewritten only on request (`UPDATE_SCREENSHOTS=1`); otherwise they go to a
 * temporary folder, so a test run leaves the working tree as it was.
 */
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(process.cwd(), 'docs', 'console')
    : mkdtempSync(join(tmpdir(), 'hookline-console-shots-'));

let local: LocalMode;
let config: ResolvedConfig;
let target: Target;
let sqs: SQSClient;
let stateDir: string;
let shown: ConsoleInChromium<{ url: URL }> | undefined;
let consoleUrl: URL;
let page: Page;
const buildDir = join(process.cwd(), '.hookline', 'build', `console-test-${process.pid}`);
let events: LocalEvent[];
/** The test webhook sent while the consumer was paused. */
let waitingId = '';

/** A raw request, so the Host and Origin headers can be anything (fetch forbids setting Host). */
function rawRequest(path: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: Number(consoleUrl.port), path, method, headers },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

const token = () => consoleUrl.searchParams.get('token') ?? '';
const hostHeader = () => `127.0.0.1:${consoleUrl.port}`;

async function shot(name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Posts a GitHub push whose body fails the example consumer's schema (no `ref`): dead-lettered at once. */
async function sendBrokenPush(): Promise<string> {
  const file = join(stateDir, 'broken-push.json');
  writeFileSync(file, JSON.stringify({ commits: [] }));
  const env = { HOOKLINE_STATE_DIR: stateDir };
  const connected = await connect({ local: true }, recordingOutput(), env);
  const sent = await sendWebhook(
    connected.backend,
    connected.target,
    config,
    { source: 'github', file, type: 'push' },
    env,
  );
  expect(sent.status).toBe(202);
  return sent.id ?? '';
}

/** Puts dead letters straight into the events DLQ, each failed as the consumer records it: `[errorName, message]`. */
async function sendToDeadLetterQueue(failures: [string, string][]) {
  for (const [errorName, errorMessage] of failures) {
    const letter = deadLetterMessage(0, { id: `grouped-${randomUUID()}` });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: eventsQueue().deadLetterUrl,
        MessageBody: letter.Body ?? '',
        MessageAttributes: {
          ...letter.MessageAttributes,
          'hookline.error.name': { DataType: 'String', StringValue: errorName },
          'hookline.error.message': { DataType: 'String', StringValue: errorMessage },
        },
      }),
    );
  }
}

/** The real CLI against this local mode, as an operator runs it. */
function runCli(args: string[]) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/hookline.ts', ...args], {
    env: { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' },
    timeout: 60_000,
  });
}

const cell = (queue: string, col: string) =>
  page.locator(`#queues tr[data-queue="${queue}"] [data-col="${col}"]`);
const eventsQueue = () => {
  const q = target.queues.events;
  if (!q) throw new Error('no events queue');
  return q;
};

beforeAll(async () => {
  // Before local mode's build: a missing Chromium fails the file at once.
  requireChromium();
  ({ local, config, stateDir, events } = await startExampleLocalMode('ConsoleTest', buildDir));
  const connected = await connect({ local: true }, recordingOutput(), { HOOKLINE_STATE_DIR: stateDir });
  target = connected.target;
  sqs = connected.backend.sqs;
  shown = consoleProcessInChromium(stateDir);
  ({ url: consoleUrl, page } = await shown.started);
}, 180_000);

afterAll(async () => {
  await shown?.close();
  await local?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
  if (process.env.UPDATE_SCREENSHOTS !== '1') rmSync(SCREENSHOTS, { recursive: true, force: true });
}, 60_000);

describe('hookline console in a browser', () => {
  it('refuses requests without the token, for another host name, or from another origin', async () => {
    const host = hostHeader();
    expect(await rawRequest('/api/overview', { host })).toBe(401);
    expect(await rawRequest('/', { host })).toBe(401);
    expect(await rawRequest('/api/overview', { host, 'x-hookline-token': 'wrong' })).toBe(401);
    expect(await rawRequest('/api/overview', { host, 'x-hookline-token': token() })).toBe(200);
    // DNS rebinding: the right token, but a page on another name that resolves to 127.0.0.1.
    const rebound = `evil.example:${consoleUrl.port}`;
    expect(await rawRequest('/api/overview', { host: rebound, 'x-hookline-token': token() })).toBe(403);
    const evil = { host, origin: 'http://evil.example', 'x-hookline-token': token() };
    expect(await rawRequest('/api/queues/events/pause', evil, 'POST')).toBe(403);
    // A change with only the cookie (what a forged cross-site form would carry) is refused too.
    const cookieOnly = { host, cookie: `hookline_console_${consoleUrl.port}=${token()}` };
    expect(await rawRequest('/api/queues/events/pause', cookieOnly, 'POST')).toBe(403);
    expect(await rawRequest('/api/queues/events/pause', { host }, 'POST')).toBe(403);
    expect(local.status().consumers.events?.state).toBe('Enabled');
  });

  it('opens with the token, keeps it in a cookie, and the overview shows every queue', async () => {
    await page.goto(consoleUrl.toString());
    expect(new URL(page.url()).searchParams.get('token')).toBeNull();
    for (const queue of config.queues.map((q) => q.name)) {
      await expect.poll(() => page.locator(`#queues tr[data-queue="${queue}"]`).count()).toBe(1);
    }
    await expect.poll(() => cell('events', 'consumer').textContent()).toContain('Enabled');
    expect(await page.locator('#sources tr[data-source="github"]').count()).toBe(1);
  });

  it('says under the queues which consumers skip a copy of an event they completed, in the words of hookline status', async () => {
    await page.goto(consoleUrl.toString());
    const note = page.locator('[data-idempotency]');
    await expect.poll(() => note.count()).toBe(1);
    const { stdout } = await runCli(['status', '--local']);
    const line = stdout.split('\n').find((l) => l.startsWith('idempotency: '));
    expect(line).toBe(
      'idempotency: on for events, orders (a copy of an event completed in the last 3d 0h, redelivered or redriven, is skipped)',
    );
    expect(await note.textContent()).toBe(`I${line?.slice(1)}.`);
  });

  it('counts a delayed message on the overview, as hookline status does', async () => {
    // A job sent with a delay of up to 15 minutes waits in its queue neither visible nor in flight.
    await sqs.send(
      new SendMessageCommand({ QueueUrl: eventsQueue().url, MessageBody: '{}', DelaySeconds: 900 }),
    );
    await expect.poll(() => cell('events', 'delayed').textContent(), { timeout: 10_000 }).toBe('1');
    expect(await cell('events', 'visible').textContent()).toBe('0');
  });

  it('shows a dead-lettered event with its reason on the failures, events and event pages', async () => {
    const id = await sendBrokenPush();
    await waitFor(
      () => events.some((e) => e.id === id && e.event === 'dead-lettered'),
      30_000,
      'dead letter',
    );
    await expect.poll(() => cell('events', 'dlq').textContent(), { timeout: 10_000 }).toBe('1');

    await page.goto(`${consoleUrl.origin}/#/failures/events`);
    const row = page.locator(`.group tr[data-id="${id}"]`);
    await row.waitFor();
    const group = page.locator('.group', { has: page.locator(`tr[data-id="${id}"]`) });
    expect(await group.getAttribute('data-reason')).toMatch(
      /InvalidPayloadError: payload failed schema validation/,
    );
    await shot('failures');

    await page.goto(`${consoleUrl.origin}/#/events`);
    await page.selectOption('select[name="outcome"]', 'dead-lettered');
    await page.locator(`#events tr[data-id="${id}"][data-event="dead-lettered"]`).waitFor();
    // The dead-lettered row was already listed before the filter applied: wait for the other rows to go.
    await expect
      .poll(() => page.locator('#events tr[data-event="queued"]').count(), { timeout: 10_000 })
      .toBe(0);
    await page.selectOption('select[name="outcome"]', '');
    await page.locator(`#events tr[data-id="${id}"][data-event="queued"]`).waitFor();
    // The times are the feed's UTC times, and the column says so: a reader in another zone took them for local.
    expect(await page.locator('#events thead th').first().textContent()).toBe('Time (UTC)');
    await shot('events');

    await page.click(`#events tr[data-id="${id}"][data-event="queued"] a`);
    await page.locator('[data-field="reason"]').waitFor();
    expect(await page.locator('[data-field="reason"]').textContent()).toMatch(/InvalidPayloadError/);
    expect(await page.locator('[data-field="attempts"]').textContent()).toBe('1');
    const headers = (await page.locator('[data-headers]').textContent()) ?? '';
    expect(headers).toContain('x-github-event');
    expect(headers).not.toContain('x-hub-signature');
    // The timeline comes from local mode's journal, which the page reads once it has the event's record.
    await expect
      .poll(() => page.locator('#timeline tr[data-event="dead-lettered"]').count(), { timeout: 10_000 })
      .toBe(1);
    expect(await page.locator('#timeline thead th').first().textContent()).toBe('Time (UTC)');
    await shot('event');
  });

  it('pausing a consumer from the page stops processing; the test webhook sent from the page waits', async () => {
    await page.goto(`${consoleUrl.origin}/#/actions`);
    await page.click('#consumers tr[data-queue="events"] button:has-text("Pause")');
    await expect
      .poll(() => page.locator('#consumers tr[data-queue="events"] [data-col="consumer"]').textContent())
      .toBe('Disabled');
    expect(local.status().consumers.events?.state).toBe('Disabled');

    await page.selectOption('select[name="send-source"]', 'github');
    await page.click('button:has-text("Send")');
    const sent = page.locator('[data-send-status]');
    await sent.waitFor();
    expect(await sent.getAttribute('data-send-status')).toBe('202');
    // Announced to a screen reader: the answer is in a live region.
    expect(await page.locator('[role="status"] [data-send-status]').count()).toBe(1);
    const id = (await sent.locator('a').textContent()) ?? '';
    expect(id).not.toBe('');
    waitingId = id;
    await waitFor(() => events.some((e) => e.id === id && e.event === 'queued'), 10_000, 'queued');
    await new Promise((r) => setTimeout(r, 2_500));
    expect(events.filter((e) => e.id === id && e.event === 'processed')).toEqual([]);
    expect((await queueDepth(sqs, eventsQueue().url)).visible).toBe(1);
    await shot('actions');
  });

  it('a redrive from the failures page moves the dead letter back to its queue and the counts change', async () => {
    await page.goto(`${consoleUrl.origin}/#/overview`);
    await expect.poll(() => cell('events', 'visible').textContent()).toBe('1');
    // The empty queues' note names them: said of every queue, it would deny the message events shows.
    const idle = (
      await page
        .locator('#queues tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue')))
    ).filter((queue) => queue !== 'events');
    expect(await page.locator('[data-oldest-note]').allTextContents()).toEqual([
      `Oldest of ${idle.join(', ')}: no message waiting or in flight.`,
    ]);
    // A read of the DLQ (the failures page) hides its messages for a moment: the count settles back to 1.
    await expect.poll(() => cell('events', 'dlq').textContent(), { timeout: 10_000 }).toBe('1');

    await page.goto(`${consoleUrl.origin}/#/failures/events`);
    const row = page.locator('.group tbody tr').first();
    await row.waitFor();
    await row.locator('input[type="checkbox"]').check();
    await page.click('button:has-text("Redrive selected (1)")');
    const job = page.locator('[data-job-state="done"]');
    await job.waitFor();
    expect(await job.textContent()).toContain('moved 1, skipped 0, failed 0');

    await page.goto(`${consoleUrl.origin}/#/overview`);
    await expect.poll(() => cell('events', 'dlq').textContent()).toBe('0');
    await expect.poll(() => cell('events', 'visible').textContent()).toBe('2');
    expect((await queueDepth(sqs, eventsQueue().deadLetterUrl)).visible).toBe(0);
  });

  it('resuming from the page lets the waiting events through', async () => {
    await page.goto(`${consoleUrl.origin}/#/actions`);
    await page.click('#consumers tr[data-queue="events"] button:has-text("Resume")');
    await expect
      .poll(() => page.locator('#consumers tr[data-queue="events"] [data-col="consumer"]').textContent())
      .toBe('Enabled');
    await waitFor(
      () => events.some((e) => e.id === waitingId && e.event === 'processed'),
      30_000,
      'processing',
    );
    // The redriven event still fails its schema: it is dead-lettered again.
    await page.goto(`${consoleUrl.origin}/#/overview`);
    await expect.poll(() => cell('events', 'visible').textContent(), { timeout: 30_000 }).toBe('0');
    await expect.poll(() => cell('events', 'dlq').textContent(), { timeout: 30_000 }).toBe('1');
    await shot('overview');
  });

  it("replays one source's last hour from the page: a window is required, it counts first, and trace shows the replay", async () => {
    const github = new Set(
      events.filter((e) => e.source === 'github' && e.event === 'queued').map((e) => e.id),
    );
    expect(github.has(waitingId)).toBe(true);
    await page.goto(`${consoleUrl.origin}/#/actions`);
    const card = page.locator('.card', { has: page.locator('button[name="replay-start"]') });
    await page.selectOption('select[name="replay-source"]', 'github');
    // No start: refused, instead of replaying every archived event of the source since 1970.
    await page.fill('input[name="replay-since"]', '');
    await card.locator('button[name="replay-start"]').click();
    await expect.poll(() => card.locator('.error').textContent()).toMatch(/since "" is not a time/);
    expect(await card.locator('[data-job-state]').count()).toBe(0);

    await page.fill('input[name="replay-since"]', '1h');
    await card.locator('button[name="replay-count"]').click();
    await card.locator('[data-job-state="done"]').waitFor();
    expect(await card.locator('[data-job-state="done"] .result').textContent()).toBe(
      `${plural(github.size, 'archived event')} match${github.size === 1 ? 'es' : ''}; would send ${plural(github.size, 'message')} (events ${github.size}), ignored 0`,
    );
    await card.locator('button[name="replay-start"]').click();
    await card.locator('[data-job-state="done"]').waitFor();
    expect(await card.locator('[data-job-state="done"] .result').textContent()).toBe(
      `${github.size} matched, sent ${github.size} (events ${github.size}), ignored 0, failed 0`,
    );
    // Recorded in local mode's journal as hookline replay records it, not only guessed from a later attempt.
    const timeline = await trace(testBackend(), target, waitingId, {
      journalPath: localJournalPath({ HOOKLINE_STATE_DIR: stateDir }),
    });
    const replayed = timeline.steps.filter((s) => s.step === 'replayed');
    expect(replayed).toHaveLength(1);
    expect(replayed[0]).toMatchObject({ queues: ['events'] });
    expect(replayed[0]?.inferred).toBeUndefined();
  });

  it('purges a dead-letter queue only after the queue name is typed', async () => {
    await page.goto(`${consoleUrl.origin}/#/failures/events`);
    await page.locator('.group tbody tr').first().waitFor();
    await page.click('button:has-text("Purge the DLQ...")');
    const confirm = page.locator('.danger-zone button:has-text("Purge")');
    expect(await confirm.isDisabled()).toBe(true);
    await page.fill('input[name="purge-confirm"]', 'event');
    expect(await confirm.isDisabled()).toBe(true);
    await page.fill('input[name="purge-confirm"]', 'events');
    await confirm.click();
    await page.locator('[data-job-state="done"]').waitFor();
    await waitFor(
      async () => (await queueDepth(sqs, eventsQueue().deadLetterUrl)).visible === 0,
      10_000,
      'purge',
    );
    // The server checks the confirmation too, whatever a page sends.
    const refused = await page.evaluate(async (t) => {
      const r = await fetch('/api/queues/events/purge', {
        method: 'POST',
        headers: { 'x-hookline-token': t, 'content-type': 'application/json' },
        body: JSON.stringify({ deadLetter: true, confirm: 'yes' }),
      });
      return r.status;
    }, token());
    expect(refused).toBe(400);
  });
  it('groups a DLQ by failure; ticking one redrives exactly its letters, a row deletes or redrives its whole failure, as failed summary then shows', async () => {
    // The redriven letters wait on the queue instead of failing again under another reason.
    await page.goto(`${consoleUrl.origin}/#/actions`);
    await page.click('#consumers tr[data-queue="events"] button:has-text("Pause")');
    await expect.poll(() => local.status().consumers.events?.state).toBe('Disabled');
    const before = (await queueDepth(sqs, eventsQueue().url)).visible;
    const missing = 'PermanentError: customer <id> not found';
    const typeError = "TypeError: reading 'email'";
    const tooLarge = 'RangeError: payload too large';
    await sendToDeadLetterQueue([1, 2, 3].map((n) => ['PermanentError', `customer cus_${n} not found`]));
    await sendToDeadLetterQueue([4, 5].map(() => ['TypeError', "reading 'email'"]));
    await sendToDeadLetterQueue([6, 7].map(() => ['RangeError', 'payload too large']));
    const timedOut = 'TimeoutError: upstream timed out';
    await sendToDeadLetterQueue([['TimeoutError', 'upstream timed out']]);

    await page.goto(`${consoleUrl.origin}/#/failures/events`);
    const group = (pattern: string) =>
      page.locator(`#failure-groups tr[data-failure-key="${failureKey(pattern)}"]`);
    await expect.poll(() => page.locator('#failure-groups tbody tr').count(), { timeout: 10_000 }).toBe(4);
    expect(await group(missing).locator('[data-col="count"]').textContent()).toBe('3');
    expect(await group(typeError).locator('[data-col="count"]').textContent()).toBe('2');

    // A failure's row is ticked only while every one of its letters is, however they were ticked.
    const typeErrorLetters = page
      .locator('.group', { hasText: "TypeError: reading 'email'" })
      .locator('tbody input[type="checkbox"]');
    await typeErrorLetters.nth(0).check();
    expect(await group(typeError).locator('input[type="checkbox"]').isChecked()).toBe(false);
    await typeErrorLetters.nth(1).check();
    expect(await group(typeError).locator('input[type="checkbox"]').isChecked()).toBe(true);
    await group(typeError).locator('input[type="checkbox"]').uncheck();
    expect(
      await typeErrorLetters.evaluateAll(
        (boxes) => boxes.filter((b) => (b as HTMLInputElement).checked).length,
      ),
    ).toBe(0);

    // The delete confirmation names the failure's count; cancelled here.
    await group(typeError).locator('input[type="checkbox"]').check();
    await page.click('button:has-text("Delete selected (2)...")');
    expect(await page.locator('button.danger:has-text("Delete 2 events")').count()).toBe(1);
    await page.click('[data-delete-confirm] button:has-text("Cancel")');
    await group(typeError).locator('input[type="checkbox"]').uncheck();

    await group(missing).locator('input[type="checkbox"]').check();
    expect(await page.locator('.group tbody input[type="checkbox"]:checked').count()).toBe(3);
    await page.click('button:has-text("Redrive selected (3)")');
    const job = page.locator('[data-job-state="done"]');
    await job.waitFor();
    // The other failure's letters are scanned past, not selected: skipped, left in place.
    expect(await job.textContent()).toContain('moved 3, skipped 5, failed 0');
    expect(await job.textContent()).toContain('left in the dead-letter queue: 5');

    // A row acts on every dead letter of its failure in the whole DLQ, past what the page read, once confirmed;
    // once the page read the DLQ again after the redrive (its read holds the letters a moment).
    await expect.poll(() => page.locator('#failure-groups tbody tr').count(), { timeout: 10_000 }).toBe(3);
    await group(typeError).locator('[data-whole-failure="delete"]').click();
    const confirm = page.locator('[data-whole-failure-confirm="delete"]');
    // As the page reads: the template's line breaks are spaces.
    const asked = (await confirm.textContent())?.replace(/\s+/g, ' ');
    expect(asked).toContain(
      `Delete every dead letter of failure ${failureKey(typeError)} (${typeError}) from the whole events dead-letter queue, not only the 2 this page read?`,
    );
    expect(asked).toContain('This cannot be undone');
    await confirm.locator(`button:has-text("Delete every ${failureKey(typeError)} dead letter")`).click();
    await page.locator('[data-job-state="done"]:has-text("deleted 2 events")').waitFor();

    // A row's redrive moves its failure's letters only: the other failure stays in the DLQ.
    await expect.poll(() => page.locator('#failure-groups tbody tr').count(), { timeout: 10_000 }).toBe(2);
    await group(tooLarge).locator('[data-whole-failure="redrive"]').click();
    const redriveAsked = page.locator('[data-whole-failure-confirm="redrive"]');
    expect((await redriveAsked.textContent())?.replace(/\s+/g, ' ')).toContain(
      `Redrive every dead letter of failure ${failureKey(tooLarge)} (${tooLarge}) in the whole events dead-letter queue, not only the 2 this page read?`,
    );
    await redriveAsked
      .locator(`button:has-text("Redrive every ${failureKey(tooLarge)} dead letter")`)
      .click();
    await page.locator('[data-job-state="done"]:has-text("moved 2, skipped 1, failed 0")').waitFor();

    const { stdout } = await runCli(['failed', 'summary', 'events', '--local', '--json']);
    const summary = JSON.parse(stdout) as { read: number; groups: { key: string; count: number }[] };
    expect(summary.groups.map((g) => [g.key, g.count])).toEqual([[failureKey(timedOut), 1]]);
    expect((await queueDepth(sqs, eventsQueue().url)).visible).toBe(before + 5);
  });
});
