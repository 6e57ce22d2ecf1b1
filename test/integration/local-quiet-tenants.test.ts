/**
 * `hookline status --local` (the real CLI, on real local mode) shows a fair queue's quiet tenants as deployed
 * status does: the same line under the table and `quietTenants` in `--json`, counted from local mode's emulator and
 * tenant lanes, with a note saying what of SQS's noisy-tenant detection local mode cannot know.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../lib/cli/status';
import { runHooklineInProcessOk } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const NOISY = 50;
const QUIET = ['q1', 'q2', 'q3'];

describe('local mode: status of a fair queue with a paused consumer', () => {
  let pipeline: TestPipeline;
  const runId = randomUUID().slice(0, 8);
  const stateDir = mkdtempSync(join(tmpdir(), 'hookline-quiet-tenants-state-'));
  const hookline = async (...args: string[]) => (await runHooklineInProcessOk(stateDir, args)).stdout;
  let text = '';
  let row: QueueStatus | undefined;

  beforeAll(async () => {
    const queue = recordingQueue({ tenants: { generic: { path: 'tenant' } } });
    pipeline = await startTestPipeline(testConfig({ fair: queue }), { stateDir });
    expect(await pipeline.local.pauseConsumer('fair')).toBe(true);
    const tenants = [...Array.from({ length: NOISY }, () => 'noisy'), ...QUIET];
    const answers = await Promise.all(
      tenants.map((tenant, i) => pipeline.post('generic', { id: `e${i}-${runId}`, type: 'load', tenant })),
    );
    for (const answer of answers) expect(answer.status).toBe(202);
    text = await hookline('status', 'fair', '--local');
    row = (JSON.parse(await hookline('status', 'fair', '--local', '--json')) as { queues: QueueStatus[] })
      .queues[0];
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('counts every waiting tenant quiet: nothing is in flight, so SQS would have detected no tenant as noisy', () => {
    expect(row).toMatchObject({ queue: 'fair', visible: NOISY + QUIET.length, inFlight: 0 });
    expect(row?.quietTenants).toEqual({
      visible: NOISY + QUIET.length,
      oldestMessageAgeSeconds: expect.any(Number),
      note: expect.stringMatching(/^local mode: noisy means over 10% of the messages being processed/),
    });
  });

  it('says so on the line deployed status shows, and what local mode cannot know', () => {
    expect(text).toMatch(
      /^fair: quiet tenants 53 visible, oldest \S+ \(tenant fairness: SQS serves them ahead of a noisy tenant's backlog\)$/m,
    );
    expect(text).toMatch(/^fair: quiet tenants: local mode: .*processing time.*does not track$/m);
  });
});
