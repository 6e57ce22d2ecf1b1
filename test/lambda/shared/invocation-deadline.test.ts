import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEADLINE_CHECK_MS,
  invocationOf,
  NO_DEADLINE,
  timerDeadlineWatch,
} from '../../../lambda/shared/invocation-deadline';

describe('timerDeadlineWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checks every watched deadline on one timer and rings each once, when it is due', () => {
    const watch = timerDeadlineWatch();
    let due = false;
    const rings: string[] = [];
    watch.watch({ due: () => due, ring: () => rings.push('a') });
    watch.watch({ due: () => false, ring: () => rings.push('b') });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(DEADLINE_CHECK_MS * 3);
    expect(rings).toEqual([]);
    due = true;
    vi.advanceTimersByTime(DEADLINE_CHECK_MS);
    vi.advanceTimersByTime(DEADLINE_CHECK_MS * 3);
    expect(rings).toEqual(['a']);
  });

  it('rings nothing once unwatched (the request was answered), and stops its timer when nothing is watched', () => {
    const watch = timerDeadlineWatch();
    const rings: string[] = [];
    const unwatch = watch.watch({ due: () => true, ring: () => rings.push('answered') });
    unwatch();
    vi.advanceTimersByTime(DEADLINE_CHECK_MS);
    expect(rings).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    watch.watch({ due: () => true, ring: () => rings.push('next') });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(DEADLINE_CHECK_MS);
    expect(rings).toEqual(['next']);
  });
});

describe('invocationOf', () => {
  it("is the context when it can tell its remaining time, else no deadline (a script's call, a partial context)", () => {
    const context = { getRemainingTimeInMillis: () => 1_234 };
    expect(invocationOf(context)).toBe(context);
    expect(invocationOf(undefined)).toBe(NO_DEADLINE);
    expect(invocationOf({})).toBe(NO_DEADLINE);
  });
});
