import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const SIGNED = 60;
const FORGED = 20;
const BURST_LIMIT = 10;

describe('local mode under a spike above its stage throttle, with forged requests mixed in', () => {
  let pipeline: TestPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline(
      testConfig({ events: recordingQueue() }, { ingest: { rateLimit: 10, burstLimit: BURST_LIMIT } }),
    );
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('answers the excess 429 and queues none of it; a sender retrying its 429s gets every signed event processed once and no forged one', async () => {
    const signedIds = Array.from({ length: SIGNED }, (_, i) => `spike-${i}-${randomUUID()}`);
    const forgedIds = Array.from({ length: FORGED }, (_, i) => `forged-${i}-${randomUUID()}`);
    const post = (id: string) => pipeline.post('generic', { id, type: 'load.spike' });
    // Signed over another body, the forger's best guess: the right header shape, the wrong digest.
    const forge = (id: string) =>
      pipeline.post('generic', { id, type: 'load.spike' }, { 'x-signature': `sha256=${'0'.repeat(64)}` });
    const [signed, forged] = await Promise.all([
      Promise.all(signedIds.map(post)),
      Promise.all(forgedIds.map(forge)),
    ]);

    // A 503 (an enqueue past its time budget on a loaded machine) is a fault answer the sender retries too.
    const statuses = new Set(signed.map((r) => r.status));
    expect([...statuses].filter((s) => s !== 202 && s !== 429 && s !== 503)).toEqual([]);
    expect(signed.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(forged.map((r) => r.status).filter((s) => s !== 401 && s !== 429)).toEqual([]);

    // Nothing answered 429 reached the queue: once the acknowledged events are processed and the queue is empty,
    // no side effect exists for an id that only ever got a 429.
    const throttled = signedIds.filter((_, i) => signed[i]?.status === 429);
    const acknowledged = new Set(signedIds.filter((_, i) => signed[i]?.status === 202));
    const effectIds = () => pipeline.sideEffects().map((e) => e.id);
    await pipeline.waitFor(
      () => effectIds().filter((id) => acknowledged.has(id)).length === acknowledged.size,
      30_000,
      'the acknowledged side effects',
    );
    await pipeline.settled('events', 15_000);
    expect(effectIds().filter((id) => throttled.includes(id))).toEqual([]);

    // The sender retries each 429 (and 503) after a pause, as every retrying sender does.
    for (const id of signedIds.filter((_, i) => signed[i]?.status !== 202)) {
      let status = 429;
      for (let attempt = 0; status !== 202 && attempt < 20; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        status = (await post(id)).status;
      }
      expect({ id, status }).toEqual({ id, status: 202 });
    }
    const wanted = new Set(signedIds);
    await pipeline.waitFor(
      () => new Set(effectIds().filter((id) => wanted.has(id))).size === SIGNED,
      30_000,
      'every signed side effect',
    );
    await pipeline.settled('events', 15_000);
    const effects = effectIds();
    const accounting = {
      lost: signedIds.filter((id) => !effects.includes(id)).length,
      duplicated: effects.filter((id) => wanted.has(id)).length - SIGNED,
      forgedAccepted: effects.filter((id) => forgedIds.includes(id)).length,
    };
    expect(accounting).toEqual({ lost: 0, duplicated: 0, forgedAccepted: 0 });
  }, 120_000);
});
