/**
 * The failures page and an event page say when SQS deletes the dead letters, and the failures page how many another
 * reader holds, as `hookline failed summary`, `failed list` and `failed show` say it: the real `hookline console
 * --local` in Debian's headless Chromium and the real CLI on one local mode (emulators, the DLQ's retention as local
 * mode emulates it), in memory and on a data directory, across a restart there. A DLQ keeping letters an hour makes
 * every letter one under two days from its deletion, as the CLI's own test makes them; one keeping them 14 days (the
 * default) has none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSqsClient } from '../../lib/local/clients';
import { type ConsoleInChromium, consoleProcessInChromium } from '../helpers/console-browser';
import { runHooklineInProcess } from '../helpers/local/cli';
import { sendDeadLetter } from '../helpers/local/dead-letters';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

/** Two failures in the DLQ that keeps letters an hour, one letter in the one that keeps them 14 days. */
const GONE = ['exp-gone-1', 'exp-gone-2'];
const EMPTY = 'exp-empty-1';
const KEPT = 'exp-kept-1';

const config = testConfig({
  events: recordingQueue({
    retentionPeriod: Duration.minutes(30),
    deadLetterRetentionPeriod: Duration.hours(1),
  }),
  orders: recordingQueue(),
});

/** The time left as a person reads it changes by the second: the rest of a line must match to the character. */
const maskLeft = (text: string) => text.replace(/in \d+[dhm] \d+[hms]/g, 'in <left>');

/** How the CLI's warning, and the page's alike, say to save the letters: `failed save`, on this pipeline. */
const SAVE = ', or save it with hookline failed save events --out dead-letters-events.jsonl --local';

interface Mode {
  readonly name: string;
  readonly onDataDir: boolean;
}

describe.each<Mode>([
  { name: 'in memory', onDataDir: false },
  { name: 'on a data directory', onDataDir: true },
])('the failures page and hookline failed on local mode $name', ({ onDataDir }) => {
  let pipeline: TestPipeline;
  let sqs: SQSClient;
  let stateDir: string;
  let dataDir: string | undefined;
  let shown: ConsoleInChromium<{ url: URL }> | undefined;
  let consoleUrl: URL;
  let page: Page;

  const start = () => startTestPipeline(config, { stateDir, ...(dataDir ? { dataDir } : {}) });
  const cli = async (...args: string[]) => {
    const run = await runHooklineInProcess(stateDir, [...args, '--local']);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    return run.stdout;
  };
  const cliJson = async <T>(...args: string[]) => JSON.parse(await cli(...args, '--json')) as T;

  /** A dead letter as the consumer writes it: a new DLQ message (`SendMessage`), so its retention starts there. */
  async function deadLetter(queue: string, id: string, message: string): Promise<void> {
    await sendDeadLetter(sqs, pipeline.local.topology.queues[queue]?.deadLetterUrl, id, message);
  }

  /** The failures page of `queue`'s DLQ, read afresh, once its letters are shown. */
  async function openFailures(queue: string, id: string): Promise<void> {
    const url = new URL(consoleUrl);
    url.hash = `/failures/${queue}`;
    await page.goto('about:blank');
    await page.goto(url.toString());
    await page.locator(`tr[data-id="${id}"]`).waitFor();
  }

  /** What the page says of each failure: its key, when SQS deletes its oldest letter (the time and as read). */
  const pageGroups = () =>
    page.locator('#failure-groups tbody tr').evaluateAll((rows) =>
      rows.map((row) => {
        const time = row.querySelector('[data-col="deleted-by-sqs"] time');
        return {
          key: row.getAttribute('data-failure-key'),
          at: time?.getAttribute('datetime') ?? null,
          left: time?.textContent ?? row.querySelector('[data-col="deleted-by-sqs"]')?.textContent ?? null,
        };
      }),
    );
  /** When SQS deletes each letter listed, by the id its row is named by. */
  const pageLetters = () =>
    page
      .locator('.group tr[data-id]')
      .evaluateAll((rows) =>
        Object.fromEntries(
          rows.map((row) => [
            row.getAttribute('data-id'),
            row.querySelector('[data-col="deleted-by-sqs"] time')?.getAttribute('datetime') ?? null,
          ]),
        ),
      );
  const pageWarnings = () => page.locator('[data-expiry-warning]').allTextContents();

  /** `failed summary`'s OLDEST DELETED BY SQS column, by key: the cell before the example id ending each row. */
  function cliColumn(text: string): Record<string, string | undefined> {
    const rows = text.split('\n').filter((line) => /^[0-9a-f]{8} /.test(line));
    return Object.fromEntries(
      rows.map((row) => [row.slice(0, 8), /\s{2,}(in \S+ \S+|any moment now|-)\s{2,}\S+$/.exec(row)?.[1]]),
    );
  }
  const cliWarnings = (text: string) =>
    text.split('\n').filter((line) => line.includes(' is deleted by SQS '));

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-expiry-state-'));
    if (onDataDir) dataDir = mkdtempSync(join(tmpdir(), 'hookline-console-expiry-data-'));
    pipeline = await start();
    sqs = localSqsClient(pipeline.local.emulators);
    await deadLetter('events', GONE[0] ?? '', 'order 1 gone');
    await deadLetter('events', GONE[1] ?? '', 'order 2 gone');
    await deadLetter('events', EMPTY, "Cannot read properties of undefined (reading 'email')");
    await deadLetter('orders', KEPT, 'order 3 gone');
    shown = consoleProcessInChromium(stateDir);
    ({ url: consoleUrl, page } = await shown.started);
  }, 240_000);

  afterAll(async () => {
    await shown?.close();
    sqs?.destroy();
    await pipeline?.stop();
    for (const dir of [stateDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("shows when SQS deletes each failure's oldest letter and each letter as failed summary and failed list say, and warns in their words under two days", async () => {
    const summary = await cliJson<{ groups: { key: string; oldestDeletedBySqsAt: string }[] }>(
      'failed',
      'summary',
      'events',
    );
    const summaryText = await cli('failed', 'summary', 'events');
    const list = await cliJson<{ messages: { id: string; deletedBySqsAt: string }[] }>(
      'failed',
      'list',
      'events',
    );
    const listText = await cli('failed', 'list', 'events');
    await openFailures('events', EMPTY);

    // The same time for each failure, and each letter, to the millisecond; the same time left, to the second.
    const groups = await pageGroups();
    expect(
      groups.map(({ key, at }) => ({ key, at })).sort((a, b) => (a.key ?? '').localeCompare(b.key ?? '')),
    ).toEqual(
      summary.groups
        .map((g) => ({ key: g.key, at: g.oldestDeletedBySqsAt }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    );
    const column = cliColumn(summaryText);
    expect(Object.keys(column)).toHaveLength(2);
    for (const g of groups) expect(maskLeft(g.left ?? '')).toBe(maskLeft(column[g.key ?? ''] ?? ''));
    expect(groups[0]?.left).toMatch(/^in 59m \d+s$/);
    expect(await pageLetters()).toEqual(
      Object.fromEntries(list.messages.map((m) => [m.id, m.deletedBySqsAt])),
    );

    // Every letter has under two days left: a line per failure as failed summary prints them, and the soonest
    // shown as failed list prints it, each ending with the command that saves the letters on this pipeline.
    const expected = [...cliWarnings(listText), ...cliWarnings(summaryText)];
    expect(expected).toHaveLength(3);
    for (const line of expected) expect(line.endsWith(SAVE)).toBe(true);
    expect((await pageWarnings()).map(maskLeft).sort()).toEqual(expected.map(maskLeft).sort());

    // A person finds the column by its header, and reads the time itself in the cell's title.
    const header = page.getByRole('columnheader', { name: 'Oldest deleted by SQS' });
    expect(await header.isVisible()).toBe(true);
    expect(
      await page.getByRole('columnheader', { name: 'Deleted by SQS', exact: true }).first().isVisible(),
    ).toBe(true);
    const cell = page.locator(`tr[data-id="${EMPTY}"] [data-col="deleted-by-sqs"] time`);
    expect(await cell.getAttribute('title')).toBe(await cell.getAttribute('datetime'));
  });

  it('shows a letter far from its deletion as failed summary does, and warns of none, as it warns of none', async () => {
    const summaryText = await cli('failed', 'summary', 'orders');
    const listText = await cli('failed', 'list', 'orders');
    await openFailures('orders', KEPT);
    const [group] = await pageGroups();
    expect(group?.left).toMatch(/^in 13d 23h$/);
    expect(group?.left).toBe(cliColumn(summaryText)[group?.key ?? '']);
    expect([...cliWarnings(summaryText), ...cliWarnings(listText)]).toEqual([]);
    expect(await pageWarnings()).toEqual([]);
  });

  // Only a data directory outlives local mode: in memory there is nothing to keep, so no such test is declared.
  if (onDataDir)
    it('keeps each time across a restart on the data directory, in failed and on the page', async () => {
      const before = await cliJson<{ messages: { id: string; deletedBySqsAt: string }[] }>(
        'failed',
        'list',
        'events',
      );
      sqs.destroy();
      await pipeline.stop();
      pipeline = await start();
      sqs = localSqsClient(pipeline.local.emulators);
      const after = await cliJson<{ messages: { id: string; deletedBySqsAt: string }[] }>(
        'failed',
        'list',
        'events',
      );
      const byId = (l: typeof before) => Object.fromEntries(l.messages.map((m) => [m.id, m.deletedBySqsAt]));
      expect(byId(after)).toEqual(byId(before));
      await openFailures('events', EMPTY);
      expect(await pageLetters()).toEqual(byId(before));
    });

  it('shows on the event page of a dead-lettered event when SQS deletes it, as failed show does, with the warning under two days', async () => {
    for (const [queue, id] of [
      ['events', EMPTY],
      ['orders', KEPT],
    ] as const) {
      const shownLetter = await cliJson<{ deletedBySqsAt: string }>('failed', 'show', queue, id);
      const listed = await cliJson<{ messages: { id: string; deletedBySqsAt: string }[] }>(
        'failed',
        'list',
        queue,
      );
      const at = shownLetter.deletedBySqsAt;
      expect(listed.messages.find((m) => m.id === id)?.deletedBySqsAt).toBe(at);
      const url = new URL(consoleUrl);
      url.hash = `/event/${id}`;
      await page.goto('about:blank');
      await page.goto(url.toString());
      const record = page.locator(`[data-dead-letter="${queue}"]`);
      const cell = record.locator('[data-field="deleted-by-sqs"] time');
      await cell.waitFor();
      expect(await cell.getAttribute('datetime')).toBe(at);
      expect(await cell.getAttribute('title')).toBe(at);
      const warnings = (await record.locator('[data-expiry-warning]').allTextContents()).map(maskLeft);
      if (queue === 'events') {
        expect(await cell.textContent()).toMatch(/^in 59m \d+s$/);
        expect(warnings).toEqual([
          `this dead letter is deleted by SQS in <left> (at ${at}, under 2 days): act on it before then${SAVE}`,
        ]);
      } else {
        expect(await cell.textContent()).toBe('in 13d 23h');
        expect(warnings).toEqual([]);
      }
    }
  });

  it('says how many another reader holds as failed list does: about N, as SQS counts them', async () => {
    // Another reader holds one letter while failed list and the page read the DLQ.
    const held = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: pipeline.local.topology.queues.events?.deadLetterUrl,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 120,
      }),
    );
    expect(held.Messages).toHaveLength(1);
    const listText = await cli('failed', 'list', 'events');
    const cliNote = listText.split('\n').find((line) => line.includes('held by another reader'));
    expect(cliNote).toBe(
      'about 1 message is held by another reader (a redrive, the console, another failed list) and not shown: SQS returns them once that hold ends',
    );
    const url = new URL(consoleUrl);
    url.hash = '/failures/events';
    await page.goto('about:blank');
    await page.goto(url.toString());
    const partial = page.locator('[data-failure-groups-partial]');
    await partial.waitFor();
    expect(await page.locator('[data-dlq-note]').allTextContents()).toContain(cliNote);
    expect(await partial.textContent()).toBe(
      'Counts are of the 2 dead letters read of ~3: about 1 message is held by another reader (a redrive, the console, another failed list) and may add to a failure.',
    );
  });
});
