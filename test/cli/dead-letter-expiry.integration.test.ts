/**
 * `failed summary` and `failed list` say when SQS deletes the dead letters, read from the DLQ's retention as local
 * mode emulates it (`deadLetterRetentionPeriod`), through the real CLI program.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSqsClient } from '../../lib/local/clients';
import { runHooklineInProcess } from '../helpers/local/cli';
import { sendDeadLetter } from '../helpers/local/dead-letters';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const HOUR_MS = 3_600_000;

let pipeline: TestPipeline;
let sqs: SQSClient;
let stateDir: string;

/** A dead letter as the consumer writes it: a new DLQ message (`SendMessage`), so its retention starts there. */
async function deadLetter(id: string, message: string): Promise<void> {
  await sendDeadLetter(sqs, pipeline.local.topology.queues.events?.deadLetterUrl, id, message);
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'hookline-expiry-state-'));
  const config = testConfig({
    events: recordingQueue({
      retentionPeriod: Duration.minutes(30),
      deadLetterRetentionPeriod: Duration.hours(1),
    }),
  });
  pipeline = await startTestPipeline(config, { stateDir });
  sqs = localSqsClient(pipeline.local.emulators);
}, 120_000);

afterAll(async () => {
  sqs?.destroy();
  await pipeline?.local.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe('failed summary and failed list against a DLQ that keeps letters an hour', () => {
  it("say when SQS deletes each group's oldest letter and each letter, and warn in the summary", async () => {
    const before = Date.now();
    await deadLetter('exp-1', 'order 1 gone');
    await new Promise((r) => setTimeout(r, 20));
    await deadLetter('exp-2', 'order 2 gone');
    const after = Date.now();

    const summary = await runHooklineInProcess(stateDir, [
      'failed',
      'summary',
      'events',
      '--local',
      '--json',
    ]);
    expect(summary.code).toBe(0);
    const result = JSON.parse(summary.stdout);
    expect(result.deadLetterRetentionSeconds).toBe(3600);
    expect(result.groups).toHaveLength(1);
    const oldest = Date.parse(result.groups[0].oldestDeletedBySqsAt);
    expect(oldest).toBeGreaterThanOrEqual(before - 1000 + HOUR_MS);
    expect(oldest).toBeLessThanOrEqual(after + HOUR_MS);

    const listed = JSON.parse(
      (await runHooklineInProcess(stateDir, ['failed', 'list', 'events', '--local', '--json'])).stdout,
    );
    const byId = new Map(
      listed.messages.map((m: { id: string; sentAt: string; deletedBySqsAt: string }) => [m.id, m]),
    );
    for (const id of ['exp-1', 'exp-2']) {
      const m = byId.get(id) as { sentAt: string; deletedBySqsAt: string };
      expect(Date.parse(m.deletedBySqsAt) - Date.parse(m.sentAt)).toBe(HOUR_MS);
    }
    // The group's time is its oldest letter's.
    expect(oldest).toBe(
      Math.min(
        ...[...byId.values()].map((m) => Date.parse((m as { deletedBySqsAt: string }).deletedBySqsAt)),
      ),
    );

    const text = await runHooklineInProcess(stateDir, ['failed', 'summary', 'events', '--local']);
    expect(text.code).toBe(0);
    const [header, row] = text.stdout.split('\n').slice(1);
    expect(header).toMatch(/ OLDEST DELETED BY SQS +EXAMPLE$/);
    // An hour less the moments since the letter was dead-lettered: under a second of them reads, rounded, `1h 0m`.
    const inAboutAnHour = '(?:59m \\d+s|1h 0m)';
    expect(row).toMatch(new RegExp(` in ${inAboutAnHour} +exp-1$`));
    expect(text.stdout).toMatch(
      new RegExp(
        `failure ${result.groups[0].key}: its oldest dead letter is deleted by SQS in ${inAboutAnHour} \\(at ${result.groups[0].oldestDeletedBySqsAt.replace(/\./g, '\\.')}, under 2 days\\): act on it before then, or save it with hookline failed save events --out dead-letters-events\\.jsonl --local`,
      ),
    );
  });
});
