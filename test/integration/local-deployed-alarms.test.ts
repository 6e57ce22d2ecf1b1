/**
 * Local mode announces the two deployed alarms it did not, when their condition holds, in the deployed alarm's own
 * description (its commands as local mode names them): `DeadLettersExpiring`, once a letter the consumer
 * dead-lettered is older than the age the alarm fires at (read from the emulator as the alarm reads SQS's age
 * metric, aged by local mode's clock, which the test moves on), and `DeleteFailed`, once the
 * consumers' own deletes failed in three periods in a row (a real proxy in front of the emulator refuses a FIFO
 * consumer's `DeleteMessage`; local mode's clock moves through the periods). The expected words are read from the
 * synthesized stack of the same configuration.
 */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_LOOK_MS, RECHECK_WHILE_HELD_MS } from '../../lib/local/alarm-watch';
import { localSqsClient } from '../../lib/local/clients';
import { pipelineTemplate, renderIntrinsics } from '../helpers/cdk';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';
import { type SqsProxy, sqsProxy } from '../helpers/local/sqs-proxy';

interface AlarmLine {
  readonly event: string;
  readonly alarm?: string;
  readonly state?: string;
  readonly queue?: string;
  readonly queues?: string[];
  readonly message?: string;
}

/** A deployed alarm's description with its `hookline` commands as local mode names them. */
const asLocal = (description: string) =>
  description.replace(/`hookline ([^`]*?) --stack \S+ --region [^`\s]+`/g, 'hookline $1 --local');

const PERIOD_MS = 5 * 60_000;

let proxy: SqsProxy;
let pipeline: TestPipeline;
let offsetMs = 0;
let config: ReturnType<typeof testConfig>;

beforeAll(async () => {
  // Every `DeleteMessage` refused, as SQS refuses a lost permission.
  proxy = await sqsProxy((action) =>
    action === 'DeleteMessage'
      ? { refuse: { type: 'com.amazonaws.sqs#AccessDenied', message: 'injected: no sqs:DeleteMessage' } }
      : undefined,
  );
  config = testConfig(
    {
      orders: recordingQueue(
        { fifo: true, fifoGrouping: { path: 'customer' } },
        { environment: { AWS_ENDPOINT_URL_SQS: proxy.url } },
      ),
      // Its dead letters live 2 minutes (22 - 20), so the expiry alarm fires at 1 minute.
      events: recordingQueue({
        retentionPeriod: Duration.minutes(20),
        deadLetterRetentionPeriod: Duration.minutes(22),
        oldestMessageAgeAlarm: Duration.minutes(1),
      }),
    },
    { routes: [{ type: 'test.poison', queues: ['events'] }] },
  );
  pipeline = await startTestPipeline(config, { clock: () => Date.now() + offsetMs });
  proxy.target.url = pipeline.local.emulators.endpoints.sqs;
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  proxy?.server.close();
});

const alarmLines = (alarm: string): AlarmLine[] =>
  pipeline.output
    .map((line) => JSON.parse(line) as AlarmLine)
    .filter((line) => line.event === 'alarm' && line.alarm === alarm);

/** The descriptions of the synthesized stack's alarms, by the start of their logical id. */
function deployedDescription(idStart: string, mentioning: string): string {
  const resources = pipelineTemplate(config).template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: { AlarmDescription?: unknown } }
  >;
  const found = Object.entries(resources)
    .filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.includes(idStart))
    .map(([, r]) => renderIntrinsics(r.Properties?.AlarmDescription))
    .filter((description) => description.includes(mentioning));
  expect(found).toHaveLength(1);
  return found[0] ?? '';
}

describe('local mode announces what the deployed alarms page for', () => {
  it('says when a dead letter is older than the age the DeadLettersExpiring alarm fires at, in its words, and when none is', async () => {
    const sqs = localSqsClient(pipeline.local.emulators);
    const deadLetterUrl = pipeline.local.topology.queues.events?.deadLetterUrl;
    try {
      const posted = await pipeline.post('generic', { id: 'expiring-1', type: 'test.poison' });
      expect(posted.status).toBe(202);
      await pipeline.waitFor(
        () => alarmLines('dead-letters').some((line) => line.queue === 'events'),
        30_000,
        'the consumer to dead-letter it',
      );
      // Younger than the alarm's age, 1 minute, on local mode's clock: the watch reads it (its next read is due
      // within CLOCK_LOOK_MS of the move) and says nothing.
      offsetMs += 45_000;
      await new Promise((r) => setTimeout(r, CLOCK_LOOK_MS + 2_000));
      expect(alarmLines('dead-letters-expiring')).toStrictEqual([]);
      offsetMs += 20_000;
      await pipeline.waitFor(
        () => alarmLines('dead-letters-expiring').length > 0,
        30_000,
        'the expiry alarm',
      );
      const deployed = deployedDescription('DeadLettersExpiring', '"events"');
      expect(alarmLines('dead-letters-expiring')).toStrictEqual([
        {
          event: 'alarm',
          queue: 'events',
          alarm: 'dead-letters-expiring',
          state: 'ALARM',
          message: `events: ${asLocal(deployed).replace(/\.$/, '')} (what a deployed stack's DeadLettersExpiring alarm pages for)`,
        },
      ]);
      expect(alarmLines('dead-letters-expiring')[0]?.message).toContain(
        'or first save them: hookline failed save events --out dead-letters-events.jsonl --local',
      );

      await sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetterUrl }));
      // A purge reports no event: the watch sees it at its periodic read while the queue is in alarm.
      offsetMs += RECHECK_WHILE_HELD_MS;
      await pipeline.waitFor(
        () => alarmLines('dead-letters-expiring').length > 1,
        30_000,
        'its return to OK',
      );
      expect(alarmLines('dead-letters-expiring')[1]).toMatchObject({
        state: 'OK',
        message:
          "events: no dead letter is older than 1m 0s any more (a deployed stack's DeadLettersExpiring alarm would return to OK)",
      });
    } finally {
      sqs.destroy();
    }
  }, 150_000);

  it('says when the consumers failed deletes in three periods in a row, in the DeleteFailed alarm words, and when a period passes without', async () => {
    // At the start of a period, as CloudWatch aligns them.
    offsetMs = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS + 1_000 - Date.now();
    for (let period = 0; period < 3; period++) {
      if (period > 0) offsetMs += PERIOD_MS;
      const id = `undeleted-${period}`;
      expect((await pipeline.post('generic', { id, type: 'order.paid', customer: 'c-1' })).status).toBe(202);
      await pipeline.waitFor(() => pipeline.sideEffects().some((e) => e.id === id), 30_000, `${id} to run`);
      await pipeline.settled('orders', 30_000);
      await new Promise((r) => setTimeout(r, 300));
      // Two periods in a row are not yet what pages.
      if (period < 2) expect(alarmLines('delete-failed')).toStrictEqual([]);
    }
    await pipeline.waitFor(() => alarmLines('delete-failed').length > 0, 10_000, 'the DeleteFailed alarm');
    const deployed = deployedDescription('DeleteFailed', 'DeleteFailed');
    const said = deployed.slice(
      0,
      deployed.indexOf('Which consumer and why: ') + 'Which consumer and why: '.length,
    );
    expect(said.length).toBeGreaterThan(100);
    expect(alarmLines('delete-failed')).toStrictEqual([
      {
        event: 'alarm',
        queue: 'orders',
        queues: ['orders'],
        alarm: 'delete-failed',
        state: 'ALARM',
        message: `${said}the consumer of orders, in its WARN lines "DeleteMessage failed" above (what a deployed stack's DeleteFailed alarm pages for)`,
      },
    ]);

    // A whole period without a failed delete.
    offsetMs += 2 * PERIOD_MS;
    await pipeline.waitFor(() => alarmLines('delete-failed').length > 1, 10_000, 'its return to OK');
    expect(alarmLines('delete-failed')[1]).toMatchObject({ state: 'OK', queues: ['orders'] });
  }, 150_000);
});
