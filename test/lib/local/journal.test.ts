/**
 * Local mode's journal file: local mode writes it, and `hookline replay` appends to it from another process.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendToJournal, Journal, parseJournal } from '../../../lib/local/journal';
import { waitFor } from '../../helpers/wait-for';

const dirs: string[] = [];
const journalPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-journal-'));
  dirs.push(dir);
  return join(dir, 'journal.jsonl');
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('local mode journal file', () => {
  it('starts empty for an in-memory run and keeps the lines another writer appends meanwhile', async () => {
    const path = journalPath();
    writeFileSync(path, `${JSON.stringify({ event: 'queued', id: 'from-an-earlier-run', at: 'x' })}\n`);
    const local = new Journal(path, { truncate: true });
    local.append({ event: 'queued', id: 'e1' });
    // Its stream writes in the background: the CLI appends once the line is in the file.
    await waitFor(() => readFileSync(path, 'utf8').includes('"queued"'), 5_000, 'the first line written');
    // The CLI's replay, in another process, appends while local mode keeps writing.
    appendToJournal(path, { event: 'replayed', id: 'e1', replayId: 'r-1' });
    local.append({ event: 'processed', id: 'e1' });
    local.append({ event: 'processed', id: 'e1', replayId: 'r-1' });
    await local.close();
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    expect(parseJournal(lines.join('\n')).map((e) => [e.event, e.id])).toEqual([
      ['queued', 'e1'],
      ['replayed', 'e1'],
      ['processed', 'e1'],
      ['processed', 'e1'],
    ]);
    expect(lines).toHaveLength(4);
  });

  it('ends a torn last line before appending, so the first line after a kill -9 is kept', async () => {
    const path = journalPath();
    const whole = JSON.stringify({ event: 'queued', id: 'e0', at: '2026-11-30T00:00:00.000Z' });
    writeFileSync(path, `${whole}\n{"event":"processed","id":"e0","at":"2026-11`);
    const journal = new Journal(path, { truncate: false });
    journal.append({ event: 'queued', id: 'e1' });
    await journal.close();
    expect(parseJournal(readFileSync(path, 'utf8')).map((e) => [e.event, e.id])).toEqual([
      ['queued', 'e0'],
      ['queued', 'e1'],
    ]);
  });
});

describe('parseJournal', () => {
  it('reads only whole event lines with their time, skipping torn, foreign and time-less lines', () => {
    const text = [
      JSON.stringify({ event: 'queued', id: 'e1', at: '2026-11-30T00:00:00.000Z' }),
      '{"event":"processed","id":"e1","at":"2026-11-30T00:00:01',
      JSON.stringify({ id: 'no-event', at: '2026-11-30T00:00:02.000Z' }),
      JSON.stringify({ event: 'processed', id: 'no-time' }),
      JSON.stringify({ event: 42, id: 'numeric-event', at: '2026-11-30T00:00:03.000Z' }),
      'npm WARN something',
      JSON.stringify({ event: 'processed', id: 'e1', at: '2026-11-30T00:00:04.000Z' }),
      '',
    ].join('\n');
    expect(parseJournal(text).map((e) => [e.event, e.id, e.at])).toEqual([
      ['queued', 'e1', '2026-11-30T00:00:00.000Z'],
      ['processed', 'e1', '2026-11-30T00:00:04.000Z'],
    ]);
  });
});

describe('a journal that cannot be written', () => {
  it('does not stop local mode: appends and close still return', async () => {
    const path = journalPath();
    // A folder where the file should be: opening it for append fails after the constructor returned.
    mkdirSync(path);
    const journal = new Journal(path, { truncate: false });
    journal.append({ event: 'queued', id: 'e1' });
    await journal.close();
    expect(statSync(path).isDirectory()).toBe(true);
  });
});
