import { describe, expect, it } from 'vitest';
import { fitEnvelope } from '../../../lambda/shared/claim-check';
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
