/** The test setup's guard: an assertion naming the expected error fails when nothing useful was thrown. */
import { describe, expect, it } from 'vitest';

describe('toThrow with an expected message', () => {
  it('fails when a promise rejects with undefined or null', async () => {
    for (const value of [undefined, null]) {
      await expect(expect(Promise.reject(value)).rejects.toThrow('queue not found')).rejects.toThrow(
        `expected an error matching queue not found, but ${String(value)} was thrown`,
      );
    }
  });

  it('fails when a function throws undefined, for a pattern too', () => {
    expect(() =>
      expect(() => {
        throw undefined;
      }).toThrow(/queue not found/),
    ).toThrow('expected an error matching /queue not found/, but undefined was thrown');
  });

  it('still passes on the right error, and runs the code under test once', async () => {
    let runs = 0;
    expect(() => {
      runs += 1;
      throw new Error('queue not found: events');
    }).toThrow(/queue not found/);
    expect(runs).toBe(1);
    await expect(Promise.reject(new Error('queue not found'))).rejects.toThrow('not found');
    expect(() => 'fine').not.toThrow('queue not found');
  });
});
