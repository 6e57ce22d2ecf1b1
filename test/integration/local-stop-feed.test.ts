/**
 * What follows local mode's journal sees its last moments: a follower reading `GET /_hookline/events` as the
 * console does, through a stop (Ctrl-C) while a burst's batches are still being processed. Every line local mode
 * journals while it stops and drains reaches the follower before the control API closes, and webhooks sent
 * meanwhile are answered 503 (sent again later), not refused at the socket.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJournal } from '../../lib/local/journal';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const stateDir = mkdtempSync(join(tmpdir(), 'hookline-stop-feed-'));
let pipeline: TestPipeline | undefined;

afterAll(async () => {
  await pipeline?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

interface Line {
  readonly seq: number;
  readonly event: string;
  readonly id?: string;
  readonly attempt?: number;
}

/** Reads the feed as the console does (page after page, every 100 ms) until local mode stops answering. */
async function follow(controlUrl: string, seen: Line[]): Promise<void> {
  let latest = 0;
  for (;;) {
    let page: { events: Line[]; latest: number };
    try {
      const response = await fetch(`${controlUrl}/events?after=${latest}&limit=1000&follower=test`);
      if (!response.ok) return;
      page = (await response.json()) as typeof page;
    } catch {
      return;
    }
    seen.push(...page.events);
    latest = page.events.at(-1)?.seq ?? latest;
    if (latest >= page.latest) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const key = (line: { event: string; id?: string; attempt?: number }) =>
  `${line.event} ${line.id ?? ''} ${line.attempt ?? ''}`;

describe('local mode stopping under a follower of its journal', () => {
  it('serves every line journaled while it stops and drains to the follower, and answers webhooks 503 meanwhile', async () => {
    pipeline = await startTestPipeline(
      testConfig({
        events: recordingQueue({}, { environment: { HOOKLINE_TEST_RECORD_DELAY_MS: '100' } }),
      }),
      { stateDir },
    );
    const running = pipeline;
    const controlUrl = running.local.status().controlUrl;
    const seen: Line[] = [];
    const following = follow(controlUrl, seen);
    const ids = Array.from({ length: 40 }, (_, i) => `drain-${i}-${randomUUID()}`);
    const accepted = await Promise.all(ids.map((id) => running.post('generic', { id, type: 'stop.test' })));
    expect(accepted.map((r) => r.status)).toEqual(ids.map(() => 202));
    await running.waitFor(
      () => running.events.some((e) => e.event === 'processed'),
      30_000,
      'the first batch processed',
    );

    const journaledBeforeStop = running.events.length;
    const stopping = running.local.stop();
    const late = await Promise.all(
      [1, 2, 3].map((n) =>
        running.post('generic', { id: `late-${n}-${randomUUID()}`, type: 'stop.test' }).then(
          (r) => r.status,
          () => 'refused',
        ),
      ),
    );
    await stopping;
    pipeline = undefined;
    await following;

    // The stop had work to drain: lines were journaled after it began (the batches in flight finishing).
    const duringStop = running.events.slice(journaledBeforeStop);
    expect(duringStop.filter((e) => e.event === 'processed').length).toBeGreaterThan(0);
    const journaled = parseJournal(readFileSync(join(stateDir, 'journal.jsonl'), 'utf8'));
    expect(journaled.length).toBe(running.events.length);
    expect(seen.map(key).sort()).toEqual(journaled.map(key).sort());
    expect(late).toEqual([503, 503, 503]);
  }, 120_000);
});
