import { describe, expect, it } from 'vitest';
import { plural } from '../../../lambda/shared/plural';

describe('plural', () => {
  it('counts one in the singular and any other number, zero included, in the plural', () => {
    expect(plural(1, 'message')).toBe('1 message');
    expect(plural(0, 'message')).toBe('0 messages');
    expect(plural(3, 'dead letter')).toBe('3 dead letters');
  });

  it('takes the plural given where adding an s is wrong', () => {
    expect(plural(1, 'retry', 'retries')).toBe('1 retry');
    expect(plural(2, 'retry', 'retries')).toBe('2 retries');
  });
});
