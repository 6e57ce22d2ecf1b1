/**
 * The console's event page marks a debounced job's dead letter that a later send of its job replaced as
 * `hookline failed show` does, in its words: the real `hookline console --local` in Debian's headless Chromium, the
 * real CLI, the real producer and consumer on one local mode (emulators, dedupe table).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../lambda/producer';
import { queueDepth } from '../../lib/cli/dead-letters';
import { localSqsClient } from '../../lib/local/clients';
import { type ConsoleInChromium, consoleProcessInChromium } from '../helpers/console-browser';
import { runHooklineInProcess } from '../helpers/local/cli';
import { reindexJob } from '../helpers/local/debounce-consumer';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const CONSUMER = fileURLToPath(new URL('../helpers/local/debounce-consumer.ts', import.meta.url));
/** A debounced job dead-lettered, then sent again: the new cycle ran, so its dead letter's send is replaced. */
const REPLACED = 'doc-replaced';
/** A debounced job dead-lettered and not sent since: its dead letter runs once redriven. */
const CURRENT = 'doc-current';
/** `failed show`'s line, in the CLI's words (the page's must be the same). */
const SUPERSEDED =
  'a later send of this debounced job replaced it: a redrive of this letter is skipped as superseded, so its payload never runs (the job runs the send its record names)';

/** What `failed show`'s `superseded` line says, undefined without one. */
const supersededLine = (shown: string) =>
  shown
    .split('\n')
    .find((line) => line.startsWith('superseded'))
    ?.replace(/^superseded\s+/, '');

describe("the console's event page of a debounced job's dead letter", () => {
  let pipeline: TestPipeline;
  let stateDir: string;
  let producer: Producer;
  let shown: ConsoleInChromium<{ url: URL }> | undefined;
  let consoleUrl: URL;
  let page: Page;

  const cli = async (...args: string[]) => {
    const run = await runHooklineInProcess(stateDir, [...args, '--local']);
    expect(run.code).toBe(0);
    return run.stdout;
  };

  /** A debounced send of `edit` that fails for good, once its dead letter is in the jobs DLQ (`letters` in all). */
  async function deadLettered(id: string, letters: number): Promise<void> {
    await producer.send(reindexJob, { edit: -1 }, { id, debounce: { seconds: 1 } });
    const sqs = localSqsClient(pipeline.local.emulators);
    const url = pipeline.local.status().queues.jobs?.deadLetterUrl ?? '';
    try {
      const until = Date.now() + 60_000;
      while ((await queueDepth(sqs, url)).visible < letters) {
        if (Date.now() > until) throw new Error(`${id} was not dead-lettered after 60 s`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      sqs.destroy();
    }
  }

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-debounce-'));
    pipeline = await startTestPipeline(
      testConfig({
        jobs: {
          maxReceiveCount: 3,
          consumer: {
            entry: CONSUMER,
            timeout: Duration.seconds(30),
            batchSize: 10,
            retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
          },
        },
      }),
      { stateDir },
    );
    const stateFile = join(stateDir, 'producer-local.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    producer = createProducer({ local: stateFile, baseDelayMs: 20 });
    await deadLettered(REPLACED, 1);
    await producer.send(reindexJob, { edit: 2 }, { id: REPLACED, debounce: { seconds: 1 } });
    await producer.waitFor(REPLACED, { timeout: { seconds: 60 } });
    await deadLettered(CURRENT, 2);
    shown = consoleProcessInChromium(stateDir);
    ({ url: consoleUrl, page } = await shown.started);
  }, 240_000);

  afterAll(async () => {
    await shown?.close();
    await pipeline?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  /** The jobs DLQ's record on the event page of `id`, once shown. */
  async function deadLetterRecord(id: string) {
    const url = new URL(consoleUrl);
    url.hash = `/event/${id}`;
    await page.goto('about:blank');
    await page.goto(url.toString());
    const record = page.locator('[data-dead-letter="jobs"]');
    await record.locator('[data-field="reason"]').waitFor();
    return record;
  }

  it('marks a letter a later send replaced superseded in the words of failed show, and not the current one', async () => {
    expect(supersededLine(await cli('failed', 'show', 'jobs', REPLACED))).toBe(SUPERSEDED);
    const replaced = await deadLetterRecord(REPLACED);
    expect(await replaced.locator('[data-field="superseded"]').textContent()).toBe(SUPERSEDED);

    expect(supersededLine(await cli('failed', 'show', 'jobs', CURRENT))).toBeUndefined();
    const current = await deadLetterRecord(CURRENT);
    expect(await current.locator('[data-field="superseded"]').count()).toBe(0);
  });
});
