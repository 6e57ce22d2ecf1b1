/** `HOOKLINE_JOURNAL_MAX`: how much of its journal local mode keeps, read at start. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOURNAL_MAX_BYTES, journalMaxFromEnv } from '../../../lib/local/journal-retention';

describe('HOOKLINE_JOURNAL_MAX', () => {
  it('keeps 256 MB when unset or empty', () => {
    expect(DEFAULT_JOURNAL_MAX_BYTES).toBe(256 * 1024 * 1024);
    expect(journalMaxFromEnv({})).toEqual({ maxBytes: DEFAULT_JOURNAL_MAX_BYTES });
    expect(journalMaxFromEnv({ HOOKLINE_JOURNAL_MAX: '' })).toEqual({ maxBytes: DEFAULT_JOURNAL_MAX_BYTES });
  });

  it.each([
    ['256MB', 256 * 1024 ** 2],
    ['1.5gb', 1.5 * 1024 ** 3],
    [' 512 KB ', 512 * 1024],
    ['16KB', 16 * 1024],
  ])('reads %j as %i bytes', (value, bytes) => {
    expect(journalMaxFromEnv({ HOOKLINE_JOURNAL_MAX: value })).toEqual({ maxBytes: bytes });
  });

  it('keeps every line when unlimited', () => {
    expect(journalMaxFromEnv({ HOOKLINE_JOURNAL_MAX: 'Unlimited' })).toEqual({ maxBytes: undefined });
  });

  it.each([
    ['256', 'is not a size'],
    ['256M', 'is not a size'],
    ['-1MB', 'is not a size'],
    ['lots', 'is not a size'],
    ['1e3MB', 'is not a size'],
    ['15KB', 'is below 16KB'],
    ['0MB', 'is below 16KB'],
  ])('refuses %j (%s), naming the variable, the value and the fix', (value, why) => {
    expect(journalMaxFromEnv({ HOOKLINE_JOURNAL_MAX: value })).toEqual({
      problem: `HOOKLINE_JOURNAL_MAX=${JSON.stringify(value)} ${why}: set it to a size with its unit from 16KB up (512KB, 100MB, 2GB), to unlimited to keep every line, or unset it for 256MB`,
    });
  });
});
