import { describe, expect, it } from 'vitest';
import { attributeBytes, fitEnvelope } from '../../../lambda/shared/claim-check';
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
