/**
 * Deployed `hookline status` tells a circuit breaker's pause from an operator's, from what CloudWatch and Lambda
 * keep: the breaker alarm's last transition to ALARM and the mapping's last change.
 */
import {
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { breakerAlarmName } from '../../lambda/shared/circuit-breaker';
import { pausedByBreaker } from '../../lib/cli/breaker-status';
import { setConsumerEnabled } from '../../lib/cli/consumers';
import { renderConsumer, renderStatus } from '../../lib/cli/render';
import { status } from '../../lib/cli/status';
import {
  EVENTS,
  localTestTarget,
  mockCommandClients,
  recordingOutput,
  stackTarget,
  testBackend,
} from './helpers';

const { sqs, lambda, cloudwatch } = mockCommandClients();

const FIRED = Date.parse('2026-11-25T02:40:00Z');

/** A stack whose events consumer is disabled at `lastModified`, its breaker alarm having fired at FIRED. */
function deployed(lastModified: number, options: { breaker?: boolean } = {}) {
  sqs.on(GetQueueAttributesCommand).resolves({
    Attributes: {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    },
  });
  lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled', LastModified: new Date(0) });
  lambda.on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId }).resolves({
    State: 'Disabled',
    LastModified: new Date(lastModified),
  });
  cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: [breakerAlarmName('Hookline', 'events')] }).resolves(
    options.breaker === false
      ? { MetricAlarms: [] }
      : {
          MetricAlarms: [
            {
              AlarmName: breakerAlarmName('Hookline', 'events'),
              Metrics: [{ Id: 'ended', MetricStat: { Period: 300, Stat: 'Sum', Metric: {} } }],
            },
          ],
        },
  );
  cloudwatch.on(DescribeAlarmHistoryCommand).resolves({
    AlarmHistoryItems: [
      {
        Timestamp: new Date(FIRED + 600_000),
        HistoryData: JSON.stringify({ newState: { stateValue: 'OK' } }),
      },
      { Timestamp: new Date(FIRED), HistoryData: JSON.stringify({ newState: { stateValue: 'ALARM' } }) },
    ],
  });
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const name = q.MetricStat?.Metric?.MetricName;
      if (name === 'BreakerRecordsEnded') return { Id: q.Id, Values: [40] };
      if (name === 'BreakerRecordsFailed') return { Id: q.Id, Values: [37] };
      return { Id: q.Id, Values: [] };
    }),
  }));
}

describe('deployed hookline status and the circuit breaker', () => {
  it('says the breaker paused a consumer whose mapping changed right after its alarm fired, with the counts of the window', async () => {
    deployed(FIRED + 20_000);
    const result = await status(testBackend(), stackTarget());
    const events = result.queues.find((q) => q.queue === 'events');
    expect(events).toMatchObject({
      consumer: 'Disabled',
      circuitBreaker: { trippedAt: '2026-11-25T02:40:00.000Z', failed: 37, ended: 40, windowMinutes: 5 },
    });
    const counts = cloudwatch
      .commandCalls(GetMetricDataCommand)
      .map((c) => c.args[0].input)
      .find((input) => input.MetricDataQueries?.some((q) => q.Id === 'ended'));
    expect(counts?.MetricDataQueries?.[0]?.MetricStat?.Metric).toEqual({
      Namespace: 'Hookline/Hookline',
      MetricName: 'BreakerRecordsEnded',
      Dimensions: [{ Name: 'service', Value: 'events' }],
    });
    expect(counts?.StartTime).toEqual(new Date(FIRED - 300_000));
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines.join('\n')).toContain(
      'events: consumer paused by circuit breaker at 2026-11-25T02:40:00.000Z: 37 of 40 records failed in 5 minutes; resume with:',
    );
  });

  it('says so while the mapping the breaker function just disabled still reads Disabling', async () => {
    deployed(FIRED + 20_000);
    lambda.on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId }).resolves({
      State: 'Disabling',
      LastModified: new Date(FIRED + 20_000),
    });
    const result = await status(testBackend(), stackTarget());
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines.join('\n')).toContain(
      'events: consumer paused by circuit breaker at 2026-11-25T02:40:00.000Z: 37 of 40 records failed in 5 minutes; resume with:',
    );
  });

  it("calls it an operator's pause when the mapping changed long after the alarm (paused again after a resume), or before it", async () => {
    for (const lastModified of [FIRED + 3_600_000, FIRED - 60_000]) {
      deployed(lastModified);
      const result = await status(testBackend(), stackTarget());
      expect(result.queues.find((q) => q.queue === 'events')).not.toHaveProperty('circuitBreaker');
    }
  });

  it("calls it an operator's pause for a queue without a breaker alarm, and reads no alarm for a running consumer", async () => {
    deployed(FIRED + 20_000, { breaker: false });
    const result = await status(testBackend(), stackTarget());
    expect(result.queues.find((q) => q.queue === 'events')).not.toHaveProperty('circuitBreaker');
    const asked = cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames);
    expect(asked).toEqual([[breakerAlarmName('Hookline', 'events')]]);
  });

  it('resume says it ends the breaker pause it ends, deployed and locally; a resume of a running consumer says nothing more', async () => {
    deployed(FIRED + 20_000);
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Enabling' });
    const resumed = await setConsumerEnabled(testBackend(), stackTarget(), true, {
      queue: 'events',
      wait: false,
    });
    expect(resumed.clearedCircuitBreaker).toEqual({
      trippedAt: '2026-11-25T02:40:00.000Z',
      failed: 37,
      ended: 40,
      windowMinutes: 5,
    });
    const output = recordingOutput();
    renderConsumer(output, resumed);
    expect(output.lines).toEqual([
      'events consumer: Enabling',
      'events: resumed after it was paused by circuit breaker at 2026-11-25T02:40:00.000Z: 37 of 40 records failed in 5 minutes',
    ]);

    const trip = { trippedAt: '2026-12-02T14:00:00.000Z', failed: 4, ended: 4, windowMinutes: 1 };
    const answers = [
      { consumer: 'events', state: 'Enabled', clearedCircuitBreaker: trip },
      { consumer: 'events', state: 'Enabled' },
    ];
    const local = testBackend({
      http: async () => new Response(JSON.stringify(answers.shift()), { status: 200 }),
    });
    expect(
      await setConsumerEnabled(
        local,
        localTestTarget({ queues: { events: { ...EVENTS, eventSourceMappingId: undefined } as never } }),
        true,
        { queue: 'events' },
      ),
    ).toEqual({
      queue: 'events',
      state: 'Enabled',
      clearedCircuitBreaker: trip,
    });
    const running = await setConsumerEnabled(
      local,
      localTestTarget({ queues: { events: { ...EVENTS, eventSourceMappingId: undefined } as never } }),
      true,
      { queue: 'events' },
    );
    expect(running).toEqual({ queue: 'events', state: 'Enabled' });
    const plain = recordingOutput();
    renderConsumer(plain, running);
    expect(plain.lines).toEqual(['events consumer: Enabled']);
  });

  it('bounds the moment the breaker function may take to act', () => {
    expect(pausedByBreaker(FIRED + 1_000, FIRED)).toBe(true);
    expect(pausedByBreaker(FIRED + 4 * 60_000, FIRED)).toBe(true);
    expect(pausedByBreaker(FIRED + 6 * 60_000, FIRED)).toBe(false);
    expect(pausedByBreaker(FIRED - 60_000, FIRED)).toBe(false);
  });
});
