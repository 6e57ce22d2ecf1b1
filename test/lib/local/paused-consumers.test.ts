import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  pausedConsumersPath,
  readPausedConsumers,
  writePausedConsumers,
} from '../../../lib/local/paused-consumers';
import { LocalStartProblem } from '../../../lib/local/start-problem';

const root = mkdtempSync(join(tmpdir(), 'hookline-paused-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataDir = () => mkdtempSync(join(root, 'data-'));

describe('paused consumers kept in the data directory', () => {
  it('starts every consumer when nothing was saved', () => {
    expect(readPausedConsumers(dataDir())).toEqual(new Set());
  });

  it('reads back the consumers saved as paused, and none once every one was resumed', () => {
    const dir = dataDir();
    writePausedConsumers(dir, new Set(['events', 'billing']));
    expect(readPausedConsumers(dir)).toEqual(new Set(['billing', 'events']));
    writePausedConsumers(dir, []);
    expect(readPausedConsumers(dir)).toEqual(new Set());
  });

  it.each([
    ['cut JSON', '{"paused": ["eve'],
    ['null', 'null'],
    ['a list without the key', '["events"]'],
    ['a name that is not a string', '{"paused": ["events", 3]}'],
    ['paused that is not a list', '{"paused": "events"}'],
  ])('stops the start on %s, naming the file and the fix, rather than run what was paused', (_, content) => {
    const dir = dataDir();
    writeFileSync(pausedConsumersPath(dir), content);
    expect(() => readPausedConsumers(dir)).toThrow(LocalStartProblem);
    expect(() => readPausedConsumers(dir)).toThrow(`${pausedConsumersPath(dir)} is unreadable (`);
    expect(() => readPausedConsumers(dir)).toThrow('or delete it to start every consumer');
  });
});
