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
import {
  GetEventSourceMappingCommand,
  ListTagsCommand,
  UntagResourceCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { BREAKER_TAG, breakerAlarmName } from '../../lambda/shared/circuit-breaker';
import { pausedByBreaker } from '../../lib/cli/breaker-status';
import { setConsumerEnabled } from '../../lib/cli/consumers';
import { renderConsumer, renderStatus } from '../../lib/cli/render';
import { status } from '../../lib/cli/status';
import type { StackTarget } from '../../lib/cli/target';
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

/** The stack target with the events consumer's breaker configured to probe (`halfOpenAfter`). */
function probingTarget(): StackTarget {
  const target = stackTarget();
  return { ...target, queues: { ...target.queues, events: { ...EVENTS, breakerProbes: true } } };
}

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

  describe("the alarm's earlier name (<stack>-<queue>-circuit-breaker)", () => {
    const EARLIER = 'Hookline-events-circuit-breaker';
    /** The stack target whose events consumer has a breaker configured. */
    const withBreaker = (): StackTarget => {
      const target = stackTarget();
      return { ...target, queues: { ...target.queues, events: { ...EVENTS, breakerConfigured: true } } };
    };
    const alarmNamed = (name: string, configuredAt?: number) => ({
      MetricAlarms: [
        {
          AlarmName: name,
          Metrics: [{ Id: 'ended', MetricStat: { Period: 300, Stat: 'Sum', Metric: {} } }],
          ...(configuredAt === undefined
            ? {}
            : { AlarmConfigurationUpdatedTimestamp: new Date(configuredAt) }),
        },
      ],
    });
    const fired = {
      AlarmHistoryItems: [{ Timestamp: new Date(FIRED), HistoryData: '{"newState":{"stateValue":"ALARM"}}' }],
    };
    const historyAsked = () =>
      cloudwatch.commandCalls(DescribeAlarmHistoryCommand).map((c) => c.args[0].input.AlarmName);

    it('finds the trip of a stack not deployed again since the rename, under the name the alarm had', async () => {
      deployed(FIRED + 20_000, { breaker: false });
      cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: [EARLIER] }).resolves(alarmNamed(EARLIER));
      const result = await status(testBackend(), withBreaker());
      expect(result.queues.find((q) => q.queue === 'events')).toMatchObject({
        consumer: 'Disabled',
        circuitBreaker: { trippedAt: '2026-11-25T02:40:00.000Z', failed: 37, ended: 40, windowMinutes: 5 },
      });
      expect(historyAsked()).toEqual([EARLIER]);
    });

    it("finds a trip from before the deploy that renamed the alarm in the deleted alarm's history", async () => {
      deployed(FIRED + 20_000);
      // The renamed alarm, made by the deploy after the pause, has not fired; its predecessor had.
      cloudwatch
        .on(DescribeAlarmsCommand, { AlarmNames: [breakerAlarmName('Hookline', 'events')] })
        .resolves(alarmNamed(breakerAlarmName('Hookline', 'events'), FIRED + 3_600_000));
      cloudwatch.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
      cloudwatch.on(DescribeAlarmHistoryCommand, { AlarmName: EARLIER }).resolves(fired);
      const result = await status(testBackend(), withBreaker());
      expect(result.queues.find((q) => q.queue === 'events')).toMatchObject({
        circuitBreaker: { trippedAt: '2026-11-25T02:40:00.000Z', failed: 37, ended: 40 },
      });
      expect(historyAsked()).toEqual([breakerAlarmName('Hookline', 'events'), EARLIER]);
    });

    it('is not read when the alarm as it is now explains the pause, or was there before it', async () => {
      for (const configuredAt of [FIRED + 3_600_000, FIRED - 86_400_000]) {
        deployed(FIRED + 20_000);
        cloudwatch
          .on(DescribeAlarmsCommand, { AlarmNames: [breakerAlarmName('Hookline', 'events')] })
          .resolves(alarmNamed(breakerAlarmName('Hookline', 'events'), configuredAt));
        const result = await status(testBackend(), withBreaker());
        expect(result.queues.find((q) => q.queue === 'events')?.circuitBreaker?.trippedAt).toBe(
          '2026-11-25T02:40:00.000Z',
        );
        expect(historyAsked()).toEqual([breakerAlarmName('Hookline', 'events')]);
        cloudwatch.resetHistory();
      }
    });

    it("is not read for a queue without a breaker configured: another stack's earlier alarm may have that name", async () => {
      deployed(FIRED + 20_000, { breaker: false });
      cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: [EARLIER] }).resolves(alarmNamed(EARLIER));
      const result = await status(testBackend(), stackTarget());
      expect(result.queues.find((q) => q.queue === 'events')).not.toHaveProperty('circuitBreaker');
      expect(historyAsked()).toEqual([]);
    });

    it('leaves who paused the consumer unknown, naming the action, when its history may not be read', async () => {
      deployed(FIRED + 20_000, { breaker: false });
      cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: [EARLIER] }).resolves(alarmNamed(EARLIER));
      cloudwatch
        .on(DescribeAlarmHistoryCommand, { AlarmName: EARLIER })
        .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
      const result = await status(testBackend(), withBreaker());
      const events = result.queues.find((q) => q.queue === 'events');
      expect(events).toMatchObject({ consumer: 'Disabled' });
      expect(events).not.toHaveProperty('circuitBreaker');
      expect(result.unreadable).toEqual([
        { queue: 'events', part: 'circuit breaker', action: 'cloudwatch:DescribeAlarmHistory' },
      ]);
    });
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

describe('deployed status, pause and resume with a probing circuit breaker (the mapping tag)', () => {
  const MAPPING_ARN = `arn:aws:lambda:us-east-1:${EVENTS.arn.split(':')[4]}:event-source-mapping:${EVENTS.eventSourceMappingId}`;
  const OPEN = 'open since=2026-11-25T02:40:00.000Z opens=2 probeAt=2026-11-25T03:20:00.000Z restore=max-40';
  const HALF_OPEN =
    'half-open since=2026-11-25T03:20:00.000Z opens=2 closesAt=2026-11-25T03:27:00.000Z probe=2 restore=max-40';
  const tagged = (value: string) =>
    lambda.on(ListTagsCommand, { Resource: MAPPING_ARN }).resolves({ Tags: { [BREAKER_TAG]: value } });

  it('says when the breaker probes next, from the tag rather than from when the mapping last changed', async () => {
    // Changed long after the alarm: the inference alone would call it an operator's pause.
    deployed(FIRED + 3_600_000);
    tagged(OPEN);
    const result = await status(testBackend(), stackTarget());
    expect(result.queues.find((q) => q.queue === 'events')).toMatchObject({
      consumer: 'Disabled',
      circuitBreaker: {
        trippedAt: '2026-11-25T02:40:00.000Z',
        failed: 37,
        ended: 40,
        circuit: { state: 'open', opens: 2, probeAt: '2026-11-25T03:20:00.000Z' },
      },
    });
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines.join('\n')).toContain(
      'events: consumer paused by circuit breaker at 2026-11-25T02:40:00.000Z: 37 of 40 records failed in 5 minutes; next probe at 2026-11-25T03:20:00.000Z, open 2 times in a row; resume with:',
    );
  });

  it('says a running consumer is half-open while the breaker probes it, with the probe concurrency and closing time', async () => {
    deployed(FIRED + 20_000);
    lambda.on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId }).resolves({
      State: 'Enabled',
      LastModified: new Date(FIRED + 2_400_000),
    });
    tagged(HALF_OPEN);
    const result = await status(testBackend(), probingTarget());
    expect(result.queues.find((q) => q.queue === 'events')?.circuitBreaker?.circuit).toEqual({
      state: 'half-open',
      since: '2026-11-25T03:20:00.000Z',
      opens: 2,
      closesAt: '2026-11-25T03:27:00.000Z',
      probeConcurrency: 2,
    });
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines.join('\n')).toContain(
      'events: consumer half-open since 2026-11-25T03:20:00.000Z (probe concurrency 2; closes at ~2026-11-25T03:27:00.000Z if nothing fails); resume with:',
    );
  });

  it('shows the recorded circuit without counts, never zeros, when the operator may not read CloudWatch', async () => {
    deployed(FIRED + 3_600_000);
    tagged(OPEN);
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    cloudwatch.on(DescribeAlarmsCommand).rejects(denied);
    cloudwatch.on(DescribeAlarmHistoryCommand).rejects(denied);
    cloudwatch.on(GetMetricDataCommand).rejects(denied);
    const result = await status(testBackend(), stackTarget());
    const trip = result.queues.find((q) => q.queue === 'events')?.circuitBreaker;
    expect(trip).toEqual({
      trippedAt: '2026-11-25T02:40:00.000Z',
      circuit: expect.objectContaining({ state: 'open', probeAt: '2026-11-25T03:20:00.000Z' }),
    });
    const output = recordingOutput();
    renderStatus(output, result);
    const text = output.lines.join('\n');
    expect(text).toContain(
      'events: consumer paused by circuit breaker at 2026-11-25T02:40:00.000Z (how many records failed could not be read from CloudWatch); next probe at 2026-11-25T03:20:00.000Z, open 2 times in a row',
    );
    expect(text).not.toContain('0 of 0');
  });

  it('gives the trip time but no made-up counts when only the metrics cannot be read', async () => {
    deployed(FIRED + 3_600_000);
    tagged(OPEN);
    cloudwatch
      .on(GetMetricDataCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const trip = (await status(testBackend(), stackTarget())).queues.find(
      (q) => q.queue === 'events',
    )?.circuitBreaker;
    expect(trip?.trippedAt).toBe('2026-11-25T02:40:00.000Z');
    expect(trip).not.toHaveProperty('failed');
    expect(trip).not.toHaveProperty('ended');
  });

  it('reads no tag of a running consumer whose breaker cannot probe it: a plain status costs no extra call', async () => {
    deployed(FIRED + 20_000);
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled', LastModified: new Date(0) });
    tagged(HALF_OPEN);
    const result = await status(testBackend(), stackTarget());
    expect(result.queues.find((q) => q.queue === 'events')?.circuitBreaker).toBeUndefined();
    expect(lambda).not.toHaveReceivedCommand(ListTagsCommand);
    expect(cloudwatch).not.toHaveReceivedCommand(DescribeAlarmHistoryCommand);
    // One mapping read per consumer: its state.
    expect(lambda.commandCalls(GetEventSourceMappingCommand)).toHaveLength(
      Object.values(stackTarget().queues).filter((q) => q.eventSourceMappingId).length,
    );
  });

  it('infers the pause as before when the operator may not read tags: the consumer still shows Disabled', async () => {
    deployed(FIRED + 20_000);
    lambda.on(ListTagsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const events = (await status(testBackend(), stackTarget())).queues.find((q) => q.queue === 'events');
    expect(events).toMatchObject({ consumer: 'Disabled', circuitBreaker: { failed: 37 } });
    expect(events?.circuitBreaker?.circuit).toBeUndefined();
  });

  it('pause removes the record before disabling, and writes the configured scaling back over the probe', async () => {
    deployed(FIRED + 20_000);
    lambda
      .on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId })
      .resolves({ State: 'Enabled' });
    tagged(HALF_OPEN);
    lambda.on(UntagResourceCommand).resolves({});
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
    const paused = await setConsumerEnabled(testBackend(), stackTarget(), false, {
      queue: 'events',
      wait: false,
    });
    expect(lambda).toReceiveCommandWith(UntagResourceCommand, {
      Resource: MAPPING_ARN,
      TagKeys: [BREAKER_TAG],
    });
    expect(lambda).toReceiveCommandWith(UpdateEventSourceMappingCommand, {
      UUID: EVENTS.eventSourceMappingId,
      Enabled: false,
      ScalingConfig: { MaximumConcurrency: 40 },
    });
    // Untagged first: a probe or close coming due in between finds no record and leaves the consumer alone.
    const order = lambda.calls().map((call) => (call.args[0] as object).constructor.name);
    expect(order.indexOf('UntagResourceCommand')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('UntagResourceCommand')).toBeLessThan(
      order.indexOf('UpdateEventSourceMappingCommand'),
    );
    const output = recordingOutput();
    renderConsumer(output, paused);
    expect(output.lines).toEqual([
      'events consumer: Disabling',
      'events: paused by you after it was half-open since 2026-11-25T03:20:00.000Z (probe concurrency 2; closes at ~2026-11-25T03:27:00.000Z if nothing fails); no probe resumes it',
    ]);
  });

  it('resume of a circuit a probe re-opened ends it at the configured scaling, not the probe concurrency', async () => {
    deployed(FIRED + 20_000);
    tagged(OPEN);
    lambda.on(UntagResourceCommand).resolves({});
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Enabling' });
    const resumed = await setConsumerEnabled(testBackend(), stackTarget(), true, {
      queue: 'events',
      wait: false,
    });
    expect(lambda).toReceiveCommandWith(UpdateEventSourceMappingCommand, {
      UUID: EVENTS.eventSourceMappingId,
      Enabled: true,
      ScalingConfig: { MaximumConcurrency: 40 },
    });
    expect(resumed.clearedCircuitBreaker?.circuit).toMatchObject({ state: 'open', opens: 2 });
  });

  it('says so when the record cannot be removed: a probe could still re-enable the paused consumer', async () => {
    deployed(FIRED + 20_000);
    tagged(OPEN);
    lambda
      .on(UntagResourceCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabled' });
    const backend = testBackend();
    await setConsumerEnabled(backend, stackTarget(), false, { queue: 'events', wait: false });
    expect(backend.output.notes).toEqual([
      "could not remove the circuit breaker's record from the events mapping (AccessDeniedException): its probe may still re-enable the consumer; allow lambda:UntagResource on the mapping and run this again",
    ]);
  });

  it('resume of a re-opened circuit writes the configured scaling back even when the record cannot be removed', async () => {
    deployed(FIRED + 20_000);
    tagged(OPEN);
    lambda
      .on(UntagResourceCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Enabling' });
    const backend = testBackend();
    await setConsumerEnabled(backend, stackTarget(), true, { queue: 'events', wait: false });
    // The re-opened probe left the mapping at concurrency 2; its due probe, finding it resumed, only drops the tag.
    expect(lambda).toReceiveCommandWith(UpdateEventSourceMappingCommand, {
      UUID: EVENTS.eventSourceMappingId,
      Enabled: true,
      ScalingConfig: { MaximumConcurrency: 40 },
    });
    expect(backend.output.notes).toEqual([
      "could not remove the circuit breaker's record from the events mapping (AccessDeniedException): status shows its circuit until its next probe or close finds the consumer resumed and removes it; allow lambda:UntagResource on the mapping and run this again",
    ]);
  });

  it('says no more than what ended when an operator pauses a consumer a breaker without a probe paused', () => {
    const output = recordingOutput();
    const trip = { trippedAt: '2026-11-25T02:40:00.000Z', failed: 37, ended: 40, windowMinutes: 5 };
    renderConsumer(output, { queue: 'events', state: 'Disabled', clearedCircuitBreaker: trip });
    expect(output.lines).toEqual([
      'events consumer: Disabled',
      'events: paused by you after it was paused by circuit breaker at 2026-11-25T02:40:00.000Z: 37 of 40 records failed in 5 minutes',
    ]);
  });

  it('pause of a consumer without a breaker record reads no alarm and changes no scaling', async () => {
    deployed(FIRED + 20_000);
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
    const paused = await setConsumerEnabled(testBackend(), stackTarget(), false, {
      queue: 'events',
      wait: false,
    });
    expect(paused.clearedCircuitBreaker).toBeUndefined();
    expect(lambda).toReceiveCommandWith(UpdateEventSourceMappingCommand, {
      UUID: EVENTS.eventSourceMappingId,
      Enabled: false,
    });
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)[0]?.args[0].input).not.toHaveProperty(
      'ScalingConfig',
    );
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)).toEqual([]);
  });
});
