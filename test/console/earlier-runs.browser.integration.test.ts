/**
 * A console started after local mode was restarted on a persisted data dir shows the events of the run before the
 * restart that are within its window, once each, marked with the run that wrote them: the real local mode stopped
 * and started again on the same data dir, then the real `hookline console --local` process read over HTTP and in
 * Debian's headless Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { connect } from '../../lib/cli/backend';
import { sendWebhook } from '../../lib/cli/send';
import { type ResolvedConfig, resolveConfig } from '../../lib/config';
import { type LocalMode, startLocalMode } from '../../lib/local/local-mode';
import { type LocalEvent, Reporter } from '../../lib/local/reporter';
import { recordingOutput } from '../cli/helpers';
import { type ConsoleInChromium, consoleProcessInChromium } from '../helpers/console-browser';
import { waitFor } from '../helpers/wait-for';

const stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-earlier-runs-'));
const dataDir = join(stateDir, 'data');
const buildDir = join(process.cwd(), '.hookline', 'build', `console-earlier-runs-${process.pid}`);
const config: ResolvedConfig = {
  ...resolveConfig({ ...exampleConfig, stackName: `ConsoleEarlierRuns${process.pid}` }),
  schedules: [],
};
const events: LocalEvent[] = [];
let local: LocalMode | undefined;
let shown: ConsoleInChromium<{ url: URL }> | undefined;

async function startLocal(): Promise<LocalMode> {
  const reporter = new Reporter({ json: true, color: false, write: () => {} });
  reporter.subscribe((e) => events.push(e));
  return startLocalMode({
    config,
    port: 0,
    stateDir,
    dataDir,
    reporter,
    env: {},
    buildDir,
    waitTimeSeconds: 1,
  });
}

/** Sends a signed sample GitHub push through the running local mode and waits for it to be processed; its id. */
async function processedPush(): Promise<string> {
  const env = { HOOKLINE_STATE_DIR: stateDir };
  const connected = await connect({ local: true }, recordingOutput(), env);
  const sent = await sendWebhook(connected.backend, connected.target, config, { source: 'github' }, env);
  expect(sent.status).toBe(202);
  const id = sent.id ?? '';
  await waitFor(
    () => events.some((e) => e.event === 'processed' && e.id === id),
    30_000,
    `event ${id} processed`,
  );
  return id;
}

interface Line {
  seq: number;
  event: string;
  id?: string;
  run?: string;
}

beforeAll(async () => {
  local = await startLocal();
}, 180_000);

afterAll(async () => {
  await shown?.close();
  await local?.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
}, 60_000);

describe('hookline console started after a restart of local mode', () => {
  it("shows the earlier run's recent events once each, marked with their run, and counts them in the rates", async () => {
    const before = await processedPush();
    await local?.stop();
    local = undefined;
    local = await startLocal();
    const after = await processedPush();

    shown = consoleProcessInChromium(stateDir);
    const { url, page } = await shown.started;
    const api = async <T>(path: string): Promise<T> => {
      const answer = await fetch(new URL(path, url.origin), {
        headers: { 'x-hookline-token': url.searchParams.get('token') ?? '' },
      });
      expect(answer.status).toBe(200);
      return (await answer.json()) as T;
    };
    const listed = await waitFor(
      async () => {
        const { events: lines } = await api<{ events: Line[] }>('/api/events');
        return lines.some((e) => e.id === after && e.event === 'processed') ? lines : undefined;
      },
      20_000,
      'the console listing the event sent after the restart',
    );

    // The event of the run before the restart is listed, once, under its run, which is not the current one.
    const processed = (id: string) => listed.filter((e) => e.id === id && e.event === 'processed');
    expect(processed(before)).toHaveLength(1);
    expect(processed(after)).toHaveLength(1);
    const [earlier] = processed(before);
    const [current] = processed(after);
    expect(earlier?.run).toEqual(expect.any(String));
    expect(current?.run).toEqual(expect.any(String));
    expect(earlier?.run).not.toBe(current?.run);
    expect(new Set(listed.map((e) => e.seq)).size).toBe(listed.length);
    expect((earlier?.seq ?? 0) < (current?.seq ?? 0)).toBe(true);

    // Its page has its timeline, the run marked on each line.
    const answer = await api<{ timeline: Line[] }>(`/api/events/${encodeURIComponent(before)}`);
    expect(answer.timeline.map((e) => e.event)).toContain('processed');
    expect(new Set(answer.timeline.map((e) => e.run))).toEqual(new Set([earlier?.run]));

    // The Overview's last five minutes count both events, each once.
    const overview = await api<{
      sources: { name: string; rates: { received: number[]; processed: number[] } | null }[];
    }>('/api/overview');
    const github = overview.sources.find((s) => s.name === 'github')?.rates;
    const sum = (series: number[] | undefined) => (series ?? []).reduce((a, b) => a + b, 0);
    expect(sum(github?.received)).toBe(2);
    expect(sum(github?.processed)).toBe(2);

    // The page's Overview counts both; its Events page says where the restart falls: the later event above the
    // line, the earlier one below it.
    await page.goto(url.toString());
    const received = page.locator('#sources tr[data-source="github"] [data-total="received"]');
    await expect.poll(() => received.textContent(), { timeout: 15_000 }).toBe('2');
    await page.goto(`${new URL('/', url)}#/events`);
    const rows = page.locator('#events tbody tr');
    await page.locator(`#events tr[data-id="${before}"]`).first().waitFor();
    const order = await rows.evaluateAll((trs) =>
      trs.map((tr) => (tr.hasAttribute('data-restart') ? 'restart' : (tr.getAttribute('data-id') ?? ''))),
    );
    expect(order.filter((row) => row === 'restart')).toHaveLength(1);
    expect(order.lastIndexOf(after)).toBeLessThan(order.indexOf('restart'));
    expect(order.indexOf(before)).toBeGreaterThan(order.indexOf('restart'));
    await expect(page.locator('#events [data-restart]').textContent()).resolves.toBe(
      'Local mode was restarted here: the lines below were written before the restart.',
    );

    // The earlier event's page shows its timeline, not "not seen".
    await page.goto(`${new URL('/', url)}#/event/${encodeURIComponent(before)}`);
    await page.locator('#timeline tr[data-event="processed"]').waitFor();
    expect(await page.getByText('Not seen in the live feed').count()).toBe(0);
  }, 240_000);
});
