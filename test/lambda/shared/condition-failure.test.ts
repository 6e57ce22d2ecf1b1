import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { isConditionFailure } from '../../../lambda/shared/condition-failure';

describe('isConditionFailure', () => {
  it("is true for the SDK's refusal of a conditional write", () => {
    expect(
      isConditionFailure(new ConditionalCheckFailedException({ message: 'refused', $metadata: {} })),
    ).toBe(true);
  });

  it('is true for a refusal thrown by another copy of the SDK (matched by name, not class)', () => {
    const elsewhere = Object.assign(new Error('The conditional request failed'), {
      name: 'ConditionalCheckFailedException',
    });
    expect(isConditionFailure(elsewhere)).toBe(true);
  });

  it('is false for a fault, so the caller rethrows it', () => {
    expect(
      isConditionFailure(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} })),
    ).toBe(false);
    expect(isConditionFailure(new Error('socket hang up'))).toBe(false);
    expect(isConditionFailure({ name: 'ConditionalCheckFailedException' })).toBe(false);
  });
});
