import { describe, expect, it } from 'vitest';
import { attributeBytes, entryBytes, fitEnvelope, sqsBatches } from '../../../lambda/shared/claim-check';
import { envelope } from '../consumer/fakes';

describe('fitEnvelope', () => {
  it('sends a claim-checked envelope that is exactly the inline limit (the limit is inclusive)', () => {
    const env = envelope({ id: 'big', body: 'x'.repeat(5_000) });
    const options = { bucket: 'payloads', body: Buffer.from(env.body ?? ''), receivedAt: new Date(0) };
    const claimChecked = fitEnvelope(env, { ...options, inlineLimitBytes: 1_000 });
    const size = Buffer.byteLength(claimChecked?.serialized ?? '');
    expect(claimChecked?.payload?.bucket).toBe('payloads');

    const atLimit = fitEnvelope(env, { ...options, inlineLimitBytes: size });
    expect(atLimit?.serialized).toBe(claimChecked?.serialized);
    expect(fitEnvelope(env, { ...options, inlineLimitBytes: size - 1 })).toBeUndefined();
  });
});

describe('attributeBytes', () => {
  it('counts each string attribute as SQS does: its name, its type ("String") and its value, in UTF-8 bytes', () => {
    expect(attributeBytes({})).toBe(0);
    // 'hookline.type' is 13 bytes, 'String' 6, 'é' 2 (UTF-8), 'x' 1.
    expect(attributeBytes({ 'hookline.type': 'é', x: 'x' })).toBe(13 + 6 + 2 + (1 + 6 + 1));
  });
});

describe('sqsBatches', () => {
  const MiB = 1_048_576;
  it('keeps entries of exactly 1 MiB together in one batch, and cuts before the entry one byte over', () => {
    expect(sqsBatches([MiB / 2, MiB / 2], (size) => size)).toEqual([[MiB / 2, MiB / 2]]);
    expect(sqsBatches([MiB / 2, MiB / 2 + 1, 1], (size) => size)).toEqual([[MiB / 2], [MiB / 2 + 1, 1]]);
  });

  it('cuts at ten entries however small, and sends an entry above 1 MiB alone, for SQS to refuse by itself', () => {
    expect(
      sqsBatches(
        Array.from({ length: 21 }, () => 1),
        (size) => size,
      ).map((b) => b.length),
    ).toEqual([10, 10, 1]);
    expect(sqsBatches([1, MiB + 1, 1], (size) => size)).toEqual([[1], [MiB + 1], [1]]);
  });
});

describe('entryBytes', () => {
  it("counts the body and each attribute's name, data type and value, as SQS does", () => {
    const entry = {
      MessageBody: 'é',
      MessageAttributes: {
        'hookline.id': { DataType: 'String', StringValue: 'evt-1' },
        raw: { DataType: 'Binary', BinaryValue: new Uint8Array(3) },
      },
    };
    expect(entryBytes(entry)).toBe(2 + ('hookline.id'.length + 6 + 5) + (3 + 6 + 3));
  });
});
