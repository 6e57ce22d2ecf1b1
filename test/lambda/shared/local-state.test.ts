import { describe, expect, it } from 'vitest';
import { type LocalState, LocalStateError, parseLocalState } from '../../../lambda/shared/local-state';

const written: LocalState = {
  pid: 4242,
  webhookBaseUrl: 'http://127.0.0.1:3000',
  controlUrl: 'http://127.0.0.1:3000/_hookline',
  region: 'us-east-1',
  endpoints: {
    sqs: 'http://127.0.0.1:4566',
    s3: 'http://127.0.0.1:4566',
    scheduler: 'http://127.0.0.1:4567',
  },
  queues: {
    events: {
      url: 'http://sqs/000000000000/events',
      arn: 'arn:aws:sqs:us-east-1:000000000000:events',
      deadLetterUrl: 'http://sqs/000000000000/events-dlq',
      deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:events-dlq',
      fifo: false,
    },
  },
  consumers: { events: { state: 'Disabled' } },
  sources: ['stripe', 'crm'],
  schedules: ['heartbeat'],
  archive: { bucket: 'hookline-archive', stream: 'Hookline-archive' },
  jobs: {
    dedupe: { tableName: 'Hookline-dedupe', ttlSeconds: 259200 },
    scheduler: {
      namePrefix: 'Hookline-job-',
      roleArn: 'arn:aws:iam::000000000000:role/Hookline-job-scheduler',
    },
  },
};

/** A copy of `written` as JSON with one field replaced (or removed with undefined). */
function withField(path: readonly string[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(written)) as Record<string, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = path.at(-1) as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

describe('the local mode state file', () => {
  it('reads back exactly what local mode writes, through JSON', () => {
    expect(parseLocalState(JSON.parse(JSON.stringify(written)))).toEqual(written);
  });

  it("reads a queue's maxReceiveCount, which a producer checks a job's attempts against, and refuses one that is not an integer", () => {
    const parsed = parseLocalState(withField(['queues', 'events', 'maxReceiveCount'], 5));
    expect(parsed.queues.events?.maxReceiveCount).toBe(5);
    expect(() => parseLocalState(withField(['queues', 'events', 'maxReceiveCount'], '5'))).toThrow(
      'invalid local mode state at queues.events.maxReceiveCount: expected an integer',
    );
  });

  it('keeps the archive of a state without jobs', () => {
    const archiveOnly = withField(['jobs'], undefined);
    const parsed = parseLocalState(archiveOnly);
    expect(parsed.archive).toEqual(written.archive);
    expect(parsed).not.toHaveProperty('jobs');
  });

  it('keeps only its own fields and reads absent consumers as none', () => {
    const extra = { ...(withField(['consumers'], undefined) as object), future: 1 };
    const parsed = parseLocalState(extra);
    expect(parsed.consumers).toEqual({});
    expect(parsed).not.toHaveProperty('future');
    const minimal = withField(['archive'], undefined) as Record<string, unknown>;
    delete minimal.jobs;
    expect(parseLocalState(minimal)).not.toHaveProperty('archive');
  });

  it('reads the sources local mode takes webhooks for, and a state that lists none as not knowing them', () => {
    expect(parseLocalState(withField(['sources'], undefined))).not.toHaveProperty('sources');
    expect(() => parseLocalState(withField(['sources'], ['stripe', '']))).toThrow(
      'invalid local mode state at sources[1]: expected a non-empty string',
    );
    expect(() => parseLocalState(withField(['sources'], 'stripe'))).toThrow(
      'invalid local mode state at sources: expected an array of non-empty strings',
    );
  });

  it.each([
    [['pid'], '12', 'pid'],
    [['pid'], 1.5, 'pid'],
    [['controlUrl'], '', 'controlUrl'],
    [['endpoints', 'sqs'], undefined, 'endpoints.sqs'],
    [['endpoints', 'dynamodb'], 7, 'endpoints.dynamodb'],
    [['queues', 'events', 'fifo'], 'false', 'queues.events.fifo'],
    [['queues', 'events', 'deadLetterUrl'], undefined, 'queues.events.deadLetterUrl'],
    [['consumers', 'events'], 'Enabled', 'consumers.events'],
    [['archive', 'stream'], undefined, 'archive.stream'],
    [['jobs', 'dedupe', 'ttlSeconds'], '259200', 'jobs.dedupe.ttlSeconds'],
    [['jobs', 'scheduler', 'namePrefix'], undefined, 'jobs.scheduler.namePrefix'],
    [['jobs', 'payloads'], { bucket: 'b' }, 'jobs.payloads.inlineLimitBytes'],
  ])('refuses %j = %j, naming %s', (path, value, named) => {
    let thrown: unknown;
    try {
      parseLocalState(withField(path, value));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LocalStateError);
    expect((thrown as LocalStateError).path).toBe(named);
  });

  it('refuses what is not an object', () => {
    for (const value of [null, [], 'local.json', 3])
      expect(() => parseLocalState(value)).toThrow(LocalStateError);
  });
});
