import { describe, expect, it } from 'vitest';
import {
  isSafeId,
  isSqsGroupId,
  MAX_GROUP_ID_LENGTH,
  MAX_SAFE_ID_LENGTH,
} from '../../../lambda/shared/safe-ids';

describe('safe ids', () => {
  it('keeps 1 to 200 printable ASCII characters, and nothing empty, longer or with a space', () => {
    expect(isSafeId('x'.repeat(MAX_SAFE_ID_LENGTH))).toBe(true);
    expect(isSafeId('x'.repeat(MAX_SAFE_ID_LENGTH + 1))).toBe(false);
    expect(isSafeId('')).toBe(false);
    expect(isSafeId('evt 1')).toBe(false);
  });

  it('takes the group ids SQS takes: 1 to 128 printable ASCII characters', () => {
    expect(isSqsGroupId('g'.repeat(MAX_GROUP_ID_LENGTH))).toBe(true);
    expect(isSqsGroupId('g'.repeat(MAX_GROUP_ID_LENGTH + 1))).toBe(false);
    expect(isSqsGroupId('')).toBe(false);
    expect(isSqsGroupId('tenant\u00e9')).toBe(false);
  });
});
