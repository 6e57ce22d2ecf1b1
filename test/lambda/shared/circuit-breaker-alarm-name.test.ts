/**
 * The breaker alarm's name: one alarm per stack and queue in an account and Region (CloudWatch keeps one alarm per
 * name there), within the length an alarm name may have, and the name it had before, which probe schedules created
 * then still carry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  breakerAlarmName,
  breakerScheduleEventOf,
  breakerStepDueAt,
  breakerStepScheduleName,
  previousBreakerAlarmName,
  queueOfBreakerAlarm,
} from '../../../lambda/shared/circuit-breaker';
import { NAME_PATTERN } from '../../../lib/config/common';

/** What CloudFormation and CDK accept as a stack name. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
/** The longest alarm name CloudWatch takes (AWS::CloudWatch::Alarm's `AlarmName`). */
const ALARM_NAME_MAX = 255;

/** Words a stack and a queue name can be cut from at any dash: lower-case, each starting with a letter. */
const words = fc.array(fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/), { minLength: 2, maxLength: 6 });

describe('the breaker alarm name', () => {
  it('differs for stack a-b with queue c and stack a with queue b-c, which the dash-joined name gave one alarm', () => {
    expect(breakerAlarmName('a-b', 'c')).not.toBe(breakerAlarmName('a', 'b-c'));
    expect(previousBreakerAlarmName(breakerAlarmName('a-b', 'c'))).toBe('a-b-c-circuit-breaker');
    expect(previousBreakerAlarmName(breakerAlarmName('a', 'b-c'))).toBe('a-b-c-circuit-breaker');
  });

  it('gives every cut of one dashed name into a stack and a queue its own alarm name', () => {
    fc.assert(
      fc.property(words, (parts) => {
        const pairs = parts.slice(1).map((_, i) => ({
          stack: parts.slice(0, i + 1).join('-'),
          queue: parts.slice(i + 1).join('-'),
        }));
        for (const { stack, queue } of pairs) {
          expect(stack).toMatch(STACK_NAME);
          expect(queue).toMatch(NAME_PATTERN);
        }
        const names = pairs.map(({ stack, queue }) => breakerAlarmName(stack, queue));
        expect(new Set(names).size).toBe(pairs.length);
        // The dash-joined name gave them all one alarm.
        expect(new Set(names.map(previousBreakerAlarmName)).size).toBe(1);
      }),
    );
  });

  it('gives distinct stack and queue pairs distinct names', () => {
    const stack = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
    const queue = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
    fc.assert(
      fc.property(stack, queue, stack, queue, (stackA, queueA, stackB, queueB) => {
        fc.pre(stackA !== stackB || queueA !== queueB);
        expect(breakerAlarmName(stackA, queueA)).not.toBe(breakerAlarmName(stackB, queueB));
      }),
    );
  });

  it('fits the longest stack name with the longest queue name in what CloudWatch accepts', () => {
    const name = breakerAlarmName(`S${'x'.repeat(127)}`, `q${'x'.repeat(39)}`);
    expect(name.length).toBeLessThanOrEqual(ALARM_NAME_MAX);
  });

  it('reads as the stack, the queue and what it is, and knows the name it had before', () => {
    expect(breakerAlarmName('Shop', 'order-events')).toBe('Shop/order-events/circuit-breaker');
    expect(previousBreakerAlarmName(breakerAlarmName('Shop', 'order-events'))).toBe(
      'Shop-order-events-circuit-breaker',
    );
  });
});

describe('reading a breaker step back, as the CLI does from the dead-letter queue Scheduler puts it in', () => {
  it('finds the queue of any alarm name, and of the earlier dashed one only beside its stack', () => {
    fc.assert(
      fc.property(words, (parts) => {
        for (let i = 1; i < parts.length; i++) {
          const [stack, queue] = [parts.slice(0, i).join('-'), parts.slice(i).join('-')];
          expect(queueOfBreakerAlarm(breakerAlarmName(stack, queue))).toBe(queue);
          const earlier = previousBreakerAlarmName(breakerAlarmName(stack, queue));
          expect(queueOfBreakerAlarm(earlier, stack)).toBe(queue);
        }
      }),
    );
    expect(queueOfBreakerAlarm('Shop-order-events-circuit-breaker')).toBeUndefined();
    expect(queueOfBreakerAlarm('Shop/order-events/other')).toBeUndefined();
    expect(queueOfBreakerAlarm('Other-events-circuit-breaker', 'Shop')).toBeUndefined();
  });

  it("knows when a step was due from its schedule's name, and nothing of another name", () => {
    const at = Date.parse('2026-12-04T10:05:00Z');
    expect(breakerStepDueAt(breakerStepScheduleName('close', '6f1c-uuid', at))).toBe(
      '2026-12-04T10:05:00.000Z',
    );
    expect(breakerStepDueAt('Hookline-job-42')).toBeUndefined();
  });

  it('takes a probe or a close as the breaker function does, and nothing else', () => {
    expect(
      breakerScheduleEventOf('{"hooklineCircuitBreaker":"close","alarmName":"S/q/circuit-breaker"}'),
    ).toEqual({
      hooklineCircuitBreaker: 'close',
      alarmName: 'S/q/circuit-breaker',
    });
    expect(breakerScheduleEventOf('{"hooklineCircuitBreaker":"open","alarmName":"a"}')).toBeUndefined();
    expect(breakerScheduleEventOf('{"v":1,"id":"evt-1"}')).toBeUndefined();
    expect(breakerScheduleEventOf('not json')).toBeUndefined();
  });
});
