/**
 * What the real `hookline` program says of a queue name it does not know: the names it knows, and the one a
 * misspelt name most likely meant. Local mode is found through a state file written here; the name is refused before
 * anything is read, so no emulator is needed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHookline } from '../helpers/local/cli';

let stateDir: string;

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'hookline-unknown-name-'));
  // Nothing listens on port 1: a command that got past the name would fail to connect, not pass.
  const sqs = 'http://127.0.0.1:1';
  const queue = (name: string) => ({
    url: `${sqs}/000000000000/${name}`,
    arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
    deadLetterUrl: `${sqs}/000000000000/${name}-dlq`,
    deadLetterArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
    fifo: false,
  });
  writeFileSync(
    join(stateDir, 'local.json'),
    JSON.stringify({
      pid: process.pid,
      webhookBaseUrl: `${sqs}`,
      controlUrl: `${sqs}/_hookline`,
      region: 'us-east-1',
      endpoints: { sqs },
      queues: { events: queue('events'), orders: queue('orders') },
      consumers: {},
    }),
  );
});

afterAll(() => {
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('an unknown queue given to the CLI', () => {
  it('is refused naming the configured queue a misspelt name most likely meant, and every queue', async () => {
    const run = await runHookline(stateDir, ['redrive', 'event', '--local']);
    expect(run.stderr).toBe(
      'error: unknown queue "event" in local mode (did you mean events?): use one of events, orders\n',
    );
    expect(run.code).toBe(1);
  }, 60_000);

  it('is refused with the queues alone where none is a close spelling', async () => {
    const run = await runHookline(stateDir, ['tail', '--local', '--queue', 'billing']);
    expect(run.stderr).toBe('error: unknown queue "billing" in local mode: use one of events, orders\n');
    expect(run.code).toBe(1);
  }, 60_000);
});
