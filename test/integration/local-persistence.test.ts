import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingQueue, startTestPipeline, testConfig } from '../helpers/local/pipeline';

describe('local mode with a data directory (HOOKLINE_DATA_DIR)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-data-'));
  const recordDir = mkdtempSync(join(tmpdir(), 'hookline-records-'));
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(recordDir, { recursive: true, force: true });
  });

  it('keeps a queued webhook and the pause across a restart, and processes the webhook once resumed', async () => {
    const config = testConfig({ events: recordingQueue() });
    const id = `persisted-${randomUUID()}`;

    const first = await startTestPipeline(config, { dataDir, recordDir });
    try {
      expect(await first.local.pauseConsumer('events')).toBe(true);
      expect((await first.post('generic', { id, type: 'kept.across.restart' })).status).toBe(202);
    } finally {
      await first.stop();
    }
    expect(first.sideEffects().some((e) => e.id === id)).toBe(false);

    const second = await startTestPipeline(config, { dataDir, recordDir });
    try {
      // The pause was saved in the data dir: the consumer starts paused and the webhook waits for a resume.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(second.sideEffects().some((e) => e.id === id)).toBe(false);
      expect(second.local.setConsumerEnabled('events', true)).toBe('Enabled');
      await second.waitFor(
        () => second.sideEffects().some((e) => e.id === id),
        20_000,
        'the persisted event',
      );
      expect(second.sideEffects().filter((e) => e.id === id)).toEqual([{ id, attempt: 1 }]);
      // The dedupe table persisted too: the same delivery sent again is recognised as a duplicate.
      expect((await second.post('generic', { id, type: 'kept.across.restart' })).status).toBe(202);
      await second.waitFor(
        () => second.events.some((e) => e.event === 'duplicate' && e.id === id),
        10_000,
        'the duplicate outcome',
      );
    } finally {
      await second.stop();
    }
  }, 90_000);
});
