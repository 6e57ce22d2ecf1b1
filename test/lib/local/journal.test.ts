/**
 * Local mode's journal file: local mode writes it, and `hookline replay` appends to it from another process.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, parseJournal } from '../../../lib/local/journal';

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
    await new Promise((done) => setTimeout(done, 50));
    // The CLI's replay, in another process, appends while local mode keeps writing.
    const cli = new Journal(path, { truncate: false });
    cli.append({ event: 'replayed', id: 'e1', replayId: 'r-1' });
    await cli.close();
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
});
