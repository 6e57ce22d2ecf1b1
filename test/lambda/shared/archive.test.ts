/**
 * The archive's contract with Amazon Data Firehose and `hookline replay`: where a record's hour lives (the
 * stream's `!{timestamp:yyyy-MM-dd}` and `!{timestamp:HH}`, zero-padded), how large a record may be, and which
 * lines of an archive object are records.
 */
import { describe, expect, it } from 'vitest';
import {
  ARCHIVE_RECORD_MAX_BYTES,
  archivableEnvelopeBytes,
  archiveLine,
  archivePrefix,
  parseArchiveLines,
} from '../../../lambda/shared/archive';
import { envelope } from '../consumer/fakes';

describe('archive prefixes', () => {
  it('zero-pads month, day and hour as the delivery stream writes them, so a replay lists the keys it wrote', () => {
    expect(archivePrefix('github', new Date('2026-03-04T05:06:07Z'))).toBe(
      'archive/source=github/dt=2026-03-04/hour=05/',
    );
    expect(archivePrefix('github', new Date('2026-12-31T23:59:59Z'))).toBe(
      'archive/source=github/dt=2026-12-31/hour=23/',
    );
  });
});

describe('archive lines', () => {
  /** An envelope whose archive line is exactly `bytes` long. */
  const ofLineSize = (bytes: number) => {
    const empty = archiveLine(envelope({ id: 'sized', body: '' }), 'producer', ['jobs']);
    return envelope({ id: 'sized', body: 'x'.repeat(bytes - (empty?.length ?? 0)) });
  };

  it('takes a record of exactly the size Firehose accepts, and refuses one byte more', () => {
    expect(archiveLine(ofLineSize(ARCHIVE_RECORD_MAX_BYTES), 'producer', ['jobs'])?.length).toBe(
      ARCHIVE_RECORD_MAX_BYTES,
    );
    expect(archiveLine(ofLineSize(ARCHIVE_RECORD_MAX_BYTES + 1), 'producer', ['jobs'])).toBeUndefined();
  });

  it('says exactly how large an envelope may be for its archive line to fit a record', () => {
    const fitting = ofLineSize(ARCHIVE_RECORD_MAX_BYTES);
    expect(Buffer.byteLength(JSON.stringify(fitting))).toBe(
      archivableEnvelopeBytes(fitting.source, 'producer', ['jobs']),
    );
  });

  it('reads back only the archive records of an object, skipping JSON lines that are not one', () => {
    const record = archiveLine(envelope({ id: 'kept' }), 'schedule', ['events'])?.toString('utf8') ?? '';
    const text = [
      'null',
      '5',
      '"text"',
      '{}',
      '{"source":"github"}',
      '{"envelope":{"id":"no-source"}}',
      '{"envelope":{"id":"bad-source"},"source":7}',
      record.trimEnd(),
    ].join('\n');
    expect(parseArchiveLines(text).records.map((r) => r.envelope.id)).toEqual(['kept']);
  });

  it('counts the lines it skipped, torn ones too, and not the blank ones around the records', () => {
    const line = (id: string) =>
      archiveLine(envelope({ id }), 'schedule', ['events'])?.toString('utf8').trimEnd() ?? '';
    const torn = line('torn').slice(0, 40);
    const text = ['', line('a'), torn, '{"foreign":true}', '   ', line('b'), ''].join('\n');
    const parsed = parseArchiveLines(text);
    expect(parsed.records.map((r) => r.envelope.id)).toEqual(['a', 'b']);
    expect(parsed.skipped).toBe(2);
    expect(parseArchiveLines(`${line('c')}\n`).skipped).toBe(0);
  });
});
