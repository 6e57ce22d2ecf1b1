import { describe, expect, it } from 'vitest';
import { onFirstUse } from '../../../lambda/shared/on-first-use';

describe('onFirstUse', () => {
  it('creates nothing until the first call, then hands every call the same value', async () => {
    let created = 0;
    const get = onFirstUse(async () => ({ id: ++created }));
    expect(created).toBe(0);
    const [a, b] = await Promise.all([get(), get()]);
    expect(created).toBe(1);
    expect(a).toBe(b);
    expect(await get()).toBe(a);
  });

  it('does not keep a failed creation: the next call tries again', async () => {
    let attempts = 0;
    const get = onFirstUse(async () => {
      attempts++;
      if (attempts === 1) throw new Error('module failed to load');
      return 'client';
    });
    await expect(get()).rejects.toThrow('module failed to load');
    expect(await get()).toBe('client');
    expect(attempts).toBe(2);
  });
});
