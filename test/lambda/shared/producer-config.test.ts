import { spawnSync } from 'node:child_process';
/**
 * A producer's queues come from one variable: where they are, once, and each queue's and scheduler role's name.
 * The URLs and ARNs derived from it are the ones AWS gives, in every partition, and the emulator's locally.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defaultClients } from '../../../lambda/producer/aws';
import { discoverProducer } from '../../../lambda/producer/discover';
import { jobScheduleName, ProducerConfigError } from '../../../lambda/producer/producer';
import type { LocalState } from '../../../lambda/shared/local-state';
import {
  jobScheduleNamePrefix,
  PRODUCER_CONFIG_ENV,
  PRODUCER_QUEUES_ENV,
  type ProducerQueuesVariable,
  producerQueueOf,
} from '../../../lambda/shared/producer-config';
import { lockStateDir } from '../../../lib/local/data-dir-lock';

const commercial = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com',
};
const china = {
  partition: 'aws-cn',
  region: 'cn-north-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com.cn',
};

describe('a granted queue’s address', () => {
  it('is the queue URL, queue ARN and role ARN AWS gives, in the commercial partition', () => {
    expect(
      producerQueueOf(commercial, 'jobs', { queue: 'Hookline-QueueJobs-AbC123', role: 'Hookline-Role-X' }),
    ).toEqual({
      name: 'jobs',
      url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Hookline-QueueJobs-AbC123',
      arn: 'arn:aws:sqs:eu-west-1:123456789012:Hookline-QueueJobs-AbC123',
      fifo: false,
      flows: false,
      schedulerRoleArn: 'arn:aws:iam::123456789012:role/Hookline-Role-X',
    });
  });

  it('uses the China partition and URL suffix there', () => {
    expect(producerQueueOf(china, 'jobs', { queue: 'q', role: 'r' })).toEqual({
      name: 'jobs',
      url: 'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
      arn: 'arn:aws-cn:sqs:cn-north-1:123456789012:q',
      fifo: false,
      flows: false,
      schedulerRoleArn: 'arn:aws-cn:iam::123456789012:role/r',
    });
  });

  it('is FIFO exactly when the name ends in .fifo, and has no scheduler role unless granted one', () => {
    const orders = producerQueueOf(commercial, 'orders', { queue: 'Hookline-Orders-1.fifo' });
    expect(orders.fifo).toBe(true);
    expect(orders.schedulerRoleArn).toBeUndefined();
    expect(producerQueueOf(commercial, 'jobs', { queue: 'fifo-reports' }).fifo).toBe(false);
  });

  it('takes flows exactly when its grant allowed them', () => {
    expect(producerQueueOf(commercial, 'jobs', { queue: 'q', flows: true }).flows).toBe(true);
    expect(producerQueueOf(commercial, 'jobs', { queue: 'q' }).flows).toBe(false);
  });

  it('goes to the SQS endpoint the variable names instead, as local mode’s emulator', () => {
    const local = { ...commercial, account: '000000000000', sqsEndpoint: 'http://127.0.0.1:5901' };
    expect(producerQueueOf(local, 'jobs', { queue: 'Hookline-jobs' }).url).toBe(
      'http://127.0.0.1:5901/000000000000/Hookline-jobs',
    );
  });
});

describe('a producer’s queues from its environment', () => {
  const variable: ProducerQueuesVariable = {
    ...commercial,
    queues: {
      jobs: { queue: 'Hookline-QueueJobs-AbC123', role: 'Hookline-Role-X' },
      orders: { queue: 'o.fifo' },
    },
  };

  it('lists every granted queue by its configured name', () => {
    const resolved = discoverProducer({
      env: { [PRODUCER_QUEUES_ENV]: JSON.stringify(variable) },
      local: false,
    });
    expect(resolved.source).toBe('environment');
    expect(Object.keys(resolved.queues)).toEqual(['jobs', 'orders']);
    expect(resolved.queues.jobs?.url).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/Hookline-QueueJobs-AbC123',
    );
    expect(resolved.queues.orders?.fifo).toBe(true);
  });

  it('says which variable is invalid and to redeploy', () => {
    const { account: _missing, ...partial } = variable;
    expect(() =>
      discoverProducer({ env: { [PRODUCER_QUEUES_ENV]: JSON.stringify(partial) }, local: false }),
    ).toThrow(/HOOKLINE_QUEUES is invalid .*redeploy so the stack writes it again/);
  });
});

describe('where a producer finds its queues', () => {
  const variable: ProducerQueuesVariable = { ...commercial, queues: { jobs: { queue: 'Deployed-jobs' } } };
  const deployed = { [PRODUCER_QUEUES_ENV]: JSON.stringify(variable) };
  const state: LocalState = {
    pid: 1,
    webhookBaseUrl: 'http://127.0.0.1:3000',
    controlUrl: 'http://127.0.0.1:3000/_hookline',
    region: 'us-east-1',
    endpoints: { sqs: 'http://127.0.0.1:4566', scheduler: 'http://127.0.0.1:4567' },
    queues: {
      events: {
        url: 'http://sqs/000000000000/events',
        arn: 'arn:aws:sqs:us-east-1:000000000000:events',
        deadLetterUrl: 'http://sqs/000000000000/events-dlq',
        deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:events-dlq',
        fifo: false,
      },
    },
    consumers: {},
    jobs: {
      dedupe: { tableName: 'Hookline-dedupe', ttlSeconds: 259_200 },
      scheduler: { namePrefix: 'Hookline-job-', roleArn: 'arn:aws:iam::000000000000:role/send' },
    },
  };
  const dirs: string[] = [];
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-discover-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  /** A state directory holding `written` (or text) as local mode's state file. */
  function stateDir(written: LocalState | string = state): string {
    const dir = newDir();
    writeFileSync(join(dir, 'local.json'), typeof written === 'string' ? written : JSON.stringify(written));
    return dir;
  }

  it('takes explicit queues first, FIFO by their URL unless told, with the settings as given', () => {
    const resolved = discoverProducer({
      queues: {
        plain: 'https://sqs/1/plain',
        orders: 'https://sqs/1/orders.fifo',
        told: { url: 'https://sqs/1/told', arn: 'arn:aws:sqs:eu-west-1:1:told', fifo: true },
      },
      settings: { payloads: { bucket: 'b', inlineLimitBytes: 1000 } },
      env: deployed,
    });
    expect(resolved).toEqual({
      source: 'options',
      settings: { payloads: { bucket: 'b', inlineLimitBytes: 1000 } },
      queues: {
        plain: { name: 'plain', url: 'https://sqs/1/plain', fifo: false },
        orders: { name: 'orders', url: 'https://sqs/1/orders.fifo', fifo: true },
        told: { name: 'told', url: 'https://sqs/1/told', arn: 'arn:aws:sqs:eu-west-1:1:told', fifo: true },
      },
    });
    expect(discoverProducer({ queues: { plain: 'https://sqs/1/plain' } }).settings).toEqual({});
  });

  it("prefers a deployed function's environment to a running local mode, with the settings it was granted", () => {
    const env = {
      ...deployed,
      [PRODUCER_CONFIG_ENV]: JSON.stringify({ dedupe: { tableName: 't', ttlSeconds: 60 } }),
      HOOKLINE_STATE_DIR: stateDir(),
    };
    const resolved = discoverProducer({ env });
    expect([resolved.source, Object.keys(resolved.queues), resolved.settings]).toEqual([
      'environment',
      ['jobs'],
      { dedupe: { tableName: 't', ttlSeconds: 60 } },
    ]);
  });

  it('reads every granted setting back as the stack wrote it: dedupe, claim check with its expiry, and scheduler', () => {
    const settings = {
      dedupe: { tableName: 'Hookline-dedupe', ttlSeconds: 259_200 },
      payloads: { bucket: 'Hookline-payloads', inlineLimitBytes: 1_032_192, expirySeconds: 1_555_200 },
      scheduler: {
        namePrefix: 'Hookline-job-',
        groupName: 'default',
        deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:Hookline-schedules-dlq',
      },
    };
    const env = { ...deployed, [PRODUCER_CONFIG_ENV]: JSON.stringify(settings) };
    expect(discoverProducer({ env, local: false }).settings).toEqual(settings);
  });

  it("talks to the pipeline's region from its grant, whatever region (if any) the process itself has", async () => {
    // A script given the stack's outputs, run under a profile whose default region is another one, or none.
    for (const processRegion of ['us-west-2', undefined]) {
      vi.stubEnv('AWS_REGION', processRegion);
      vi.stubEnv('AWS_DEFAULT_REGION', undefined);
      try {
        const clients = defaultClients(discoverProducer({ env: deployed, local: false }));
        const regions = await Promise.all(
          [clients.sqs, clients.s3, clients.dynamodb, clients.scheduler].map((c) => c.config.region()),
        );
        expect(regions).toEqual(['eu-west-1', 'eu-west-1', 'eu-west-1', 'eu-west-1']);
      } finally {
        vi.unstubAllEnvs();
      }
    }
  });

  it("says the granted settings' variable is invalid and to redeploy", () => {
    expect(() =>
      discoverProducer({ env: { ...deployed, [PRODUCER_CONFIG_ENV]: '{"dedupe":1}' }, local: false }),
    ).toThrow(/HOOKLINE_PRODUCER is invalid .*redeploy so the stack writes it again/);
  });

  it('reads the running local mode, its emulator credentials and its scheduler, when there is no environment or local is asked for', () => {
    const dir = stateDir();
    for (const options of [
      { env: { HOOKLINE_STATE_DIR: dir } },
      { env: { ...deployed, HOOKLINE_STATE_DIR: dir }, local: true },
      { env: deployed, local: join(dir, 'local.json') },
      {
        env: { [PRODUCER_QUEUES_ENV]: JSON.stringify({ ...variable, queues: {} }), HOOKLINE_STATE_DIR: dir },
      },
    ]) {
      const resolved = discoverProducer(options);
      expect(resolved).toEqual({
        source: 'local',
        region: 'us-east-1',
        endpoints: state.endpoints,
        credentials: { accessKeyId: 'hookline-local', secretAccessKey: 'hookline-local' },
        queues: {
          events: {
            name: 'events',
            url: 'http://sqs/000000000000/events',
            arn: 'arn:aws:sqs:us-east-1:000000000000:events',
            fifo: false,
          },
        },
        settings: state.jobs,
      });
    }
  });

  it('gives a local producer no scheduler when local mode runs without its stand-in', () => {
    const dir = stateDir({ ...state, endpoints: { sqs: 'http://127.0.0.1:4566' } });
    expect(discoverProducer({ env: { HOOKLINE_STATE_DIR: dir } }).settings).toEqual({
      dedupe: state.jobs?.dedupe,
    });
  });

  it('says how to give it queues when there are none, or local mode left an unreadable state file', () => {
    const nowhere = newDir();
    const none = () => discoverProducer({ env: { HOOKLINE_STATE_DIR: nowhere } });
    expect(none).toThrow(ProducerConfigError);
    expect(none).toThrow(
      /no queues found: grant this function send with pipeline\.grantSend\(fn, '<queue>'\)/,
    );
    expect(
      () => discoverProducer({ env: { ...deployed, HOOKLINE_STATE_DIR: stateDir() }, local: false }).source,
    ).not.toThrow();
    // local: false with local mode's state file there: not said to be missing, as it is not.
    expect(() => discoverProducer({ env: { HOOKLINE_STATE_DIR: stateDir() }, local: false })).toThrow(
      "no queues found: HOOKLINE_QUEUES names none (pipeline.grantSend(fn, '<queue>') sets it), and local: false leaves local mode out: grant this function send, pass createProducer({ queues }), or drop local: false to use the running local mode",
    );
    const broken = stateDir('{"pid":');
    expect(() => discoverProducer({ env: { HOOKLINE_STATE_DIR: broken } })).toThrow(
      /local mode state file .*local\.json is unreadable: restart local mode with npm start or npx hookline dev/,
    );
  });

  it('says local mode is not running when its state file names a process that has ended (a killed local mode)', () => {
    const ended = spawnSync(process.execPath, ['-e', '0']).pid;
    const dir = stateDir({ ...state, pid: ended });
    const stale = () => discoverProducer({ env: { HOOKLINE_STATE_DIR: dir } });
    expect(stale).toThrow(ProducerConfigError);
    expect(stale).toThrow(
      new RegExp(
        `^local mode is not running: its state file .*local\\.json names process ${ended}, which has ended; start it with npm start or npx hookline dev$`,
      ),
    );
  });

  it('says local mode is starting, and to retry once it runs, while it holds its state directory and has not written its state file', () => {
    const dir = newDir();
    const release = lockStateDir(join(dir, 'local.json'));
    try {
      const starting = () => discoverProducer({ env: { HOOKLINE_STATE_DIR: dir } });
      expect(starting).toThrow(ProducerConfigError);
      expect(starting).toThrow(
        new RegExp(
          `^local mode is starting \\(pid ${process.pid}, since \\S+\\): its state file .*local\\.json names its queues once it is running; retry once local mode says it is running$`,
        ),
      );
    } finally {
      release();
    }
  });

  it('says local mode is starting when it starts over the state file a killed one left', () => {
    const ended = spawnSync(process.execPath, ['-e', '0']).pid;
    const dir = stateDir({ ...state, pid: ended });
    const release = lockStateDir(join(dir, 'local.json'));
    try {
      expect(() => discoverProducer({ env: { HOOKLINE_STATE_DIR: dir } })).toThrow(
        /^local mode is starting \(pid \d+, since \S+\): .*retry once local mode says it is running$/,
      );
    } finally {
      release();
    }
  });
});

describe('one-time job schedule names', () => {
  // EventBridge Scheduler takes names of 1 to 64 characters from [0-9a-zA-Z-_.].
  const SCHEDULER_NAME = /^[0-9a-zA-Z_.-]{1,64}$/;

  it('start with the stack name, cut to 24 characters with a hash, so the longest stack name leaves room for the job hash', () => {
    const longest = `Hookline${'x'.repeat(120)}`;
    expect(jobScheduleNamePrefix('Hookline')).toBe('Hookline-job-');
    expect(jobScheduleNamePrefix('x'.repeat(24))).toBe(`${'x'.repeat(24)}-job-`);
    expect(jobScheduleNamePrefix(longest)).toMatch(new RegExp(`^${longest.slice(0, 15)}-[0-9a-f]{8}-job-$`));
    const name = jobScheduleName(jobScheduleNamePrefix(longest), 'order-1', 'generation-1');
    expect(name).toMatch(SCHEDULER_NAME);
    expect(name.length - jobScheduleNamePrefix(longest).length).toBeGreaterThanOrEqual(32);
  });

  it('stay as deployed for a plain job, so a retry after an upgrade finds the schedule its first attempt made', () => {
    // Scheduler refuses a second schedule of one name, which a retry reads as its own: a changed hash would
    // send the job twice (the earlier schedule, and the retry's), and cancel would delete a name nothing has.
    expect(jobScheduleName('App-job-', 'order-1', 'generation-1')).toBe(
      'App-job-d9f99c25d724d506c19b291a19dcbb7372718f781c2830e53cf84d79',
    );
    // A record claimed before generations were kept: the id alone.
    expect(jobScheduleName('App-job-', 'order-1')).toBe(
      'App-job-0bafe22156d2698c143b86040446d366ead863ba600d5c924f3d15c7',
    );
    // Each send of a debounced job has a schedule of its own.
    expect(jobScheduleName('App-job-', 'order-1', 'generation-1', 'send-1')).toBe(
      'App-job-249bbd2fb6e9b35335be6e8e8e7ed3871570c5781c9487a30ea9545a',
    );
  });

  it('differ for two stack names that differ only past their 24th character', () => {
    const payments = jobScheduleNamePrefix('platform-webhook-pipeline-payments');
    const shipping = jobScheduleNamePrefix('platform-webhook-pipeline-shipping');
    expect(payments.startsWith(shipping)).toBe(false);
    expect(shipping.startsWith(payments)).toBe(false);
  });

  it('write the characters Scheduler refuses in a local stack name as dashes, apart from the name written so', () => {
    expect(jobScheduleNamePrefix('my app/dev:1')).toMatch(/^my-app-dev-1-[0-9a-f]{8}-job-$/);
    expect(jobScheduleNamePrefix('my app/dev:1')).not.toBe(jobScheduleNamePrefix('my-app-dev-1'));
    expect(jobScheduleName(jobScheduleNamePrefix('my app/dev:1'), 'order-1')).toMatch(SCHEDULER_NAME);
  });
});
