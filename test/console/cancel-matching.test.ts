/**
 * The Jobs page's Cancel matching over real HTTP, on job records in dynalite: the console answers as `hookline jobs
 * cancel --type ... --tenant ...` does, through its core. Without `yes` nothing changes, in the request; with it, a
 * console job (as a redrive is) cancels exactly the jobs that match and have not started, with its progress and the
 * command's summary; what the CLI refuses is a 400 in its words, and no job starts.
 */
import { rmSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { CANCELLABLE_JOB_STATES } from '../../lambda/shared/job-state';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import { type ConsoleServer, startConsoleServer } from '../../lib/console/server';
import type { Emulators } from '../../lib/local/emulators';
import { localTestTarget, testBackend } from '../cli/helpers';
import { jobStateOf, jobsOnlyLocalState, putJobRecord, useDedupeTable } from '../helpers/local/dedupe-table';
import { CONSOLE_TOKEN } from './console-api';

const TABLE = 'console-cancel-matching';

describe("the Jobs page's Cancel matching", () => {
  let emulators: Emulators;
  let client: DynamoDBClient;
  let server: ConsoleServer;
  let dir: string | undefined;

  useDedupeTable(TABLE, (ready, started) => {
    client = ready;
    emulators = started;
  });
  beforeAll(async () => {
    const local = jobsOnlyLocalState(emulators, TABLE);
    dir = local.dir;
    const operations = new ConsoleOperations({
      backend: testBackend(),
      target: localTestTarget({ endpoints: local.endpoints, region: emulators.region }),
      config: resolveConfig(exampleConfig),
      feed: unavailableFeed('not read here'),
      env: { HOOKLINE_STATE_DIR: dir },
    });
    server = await startConsoleServer({
      operations,
      assets: { js: Buffer.from('export {};'), css: Buffer.from('body{}') },
      token: CONSOLE_TOKEN,
    });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const answer = await fetch(`http://127.0.0.1:${server.port}${path}`, {
      method,
      headers: { 'x-hookline-token': CONSOLE_TOKEN, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };
  /** The console job `id` once it ended, read as the page polls it. */
  const finished = async (id: string) => {
    for (;;) {
      const { body } = await call('GET', `/api/jobs/${id}`);
      if (body.state !== 'running') return body;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const put = (id: string, state: string, type: string, tenant: string) =>
    putJobRecord(client, TABLE, id, { state, type, tenant });
  const stateOf = (id: string) => jobStateOf(client, TABLE, id);

  it('lists by type and tenant, says what would be cancelled without yes, then cancels only what has not started', async () => {
    await put('w-1', 'queued', 'email.send', 'gone');
    await put('w-2', 'scheduled', 'email.send', 'gone');
    await put('w-running', 'processing', 'email.send', 'gone');
    await put('w-other-type', 'queued', 'sms.send', 'gone');
    await put('w-other-tenant', 'queued', 'email.send', 'stays');
    const filters = { type: 'email.*', tenant: 'gone' };

    const listed = await call('GET', '/api/job-records?type=email.*&tenant=gone');
    expect(listed.status).toBe(200);
    expect((listed.body.items as { id: string }[]).map((j) => j.id).sort()).toEqual([
      'w-1',
      'w-2',
      'w-running',
    ]);

    const dry = await call('POST', '/api/job-records/cancel', filters);
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, matched: 2, cancelled: [] } });
    expect((dry.body.ids as string[]).sort()).toEqual(['w-1', 'w-2']);
    expect((dry.body.summary as string[])[0]).toMatch(/^2 jobs match --type 'email\.\*' --tenant gone /);
    expect(await stateOf('w-1')).toBe('queued');

    // With yes and the ids confirmed, a console job as a redrive is: the answer names it at once, and it reports
    // progress and a summary.
    const started = await call('POST', '/api/job-records/cancel', {
      ...filters,
      yes: true,
      ids: dry.body.ids,
    });
    expect(started).toMatchObject({
      status: 200,
      body: { kind: 'cancel', label: "cancel jobs matching --type 'email.*' --tenant gone" },
    });
    const done = await finished(started.body.id as string);
    expect(done).toMatchObject({
      state: 'done',
      result: { dryRun: false, matched: 2, skipped: [] },
      progress: { label: 'jobs cancelled', done: 2, total: 2 },
      summary: [
        "cancelled 2 jobs of the 2 confirmed matching --type 'email.*' --tenant gone: the consumer skips them",
      ],
    });
    expect([...(done.result as { cancelled: string[] }).cancelled].sort()).toEqual(['w-1', 'w-2']);
    const states = await Promise.all(
      ['w-1', 'w-2', 'w-running', 'w-other-type', 'w-other-tenant'].map(stateOf),
    );
    expect(states).toEqual(['cancelled', 'cancelled', 'processing', 'queued', 'queued']);

    // Nothing matches now: the dry run is refused in the CLI's words; the same confirmation again ends failed.
    expect(await call('POST', '/api/job-records/cancel', filters)).toMatchObject({
      status: 400,
      body: {
        error:
          "no job matched --type 'email.*' --tenant gone in a state a cancel changes (scheduled, waiting-children, queued, child-failed): nothing was cancelled (hookline jobs list --type 'email.*' --tenant gone shows the jobs there are)",
      },
    });
    const again = await call('POST', '/api/job-records/cancel', { ...filters, yes: true, ids: dry.body.ids });
    expect(await finished(again.body.id as string)).toMatchObject({
      state: 'failed',
      error:
        "none of the 2 confirmed jobs still matches --type 'email.*' --tenant gone in a state a cancel changes (started, finished or changed state meanwhile): nothing was cancelled",
    });
  });

  it('cancels only the jobs its dry run counted: one sent between the question and yes is left alone, and counted', async () => {
    await put('q-1', 'queued', 'email.send', 'asked');
    await put('q-2', 'scheduled', 'email.send', 'asked');
    await put('q-3', 'queued', 'email.send', 'asked');
    const filters = { type: 'email.*', tenant: 'asked' };
    const dry = await call('POST', '/api/job-records/cancel', filters);
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, matched: 3 } });

    // Between the question and its confirmation: a job is sent that matches, and a confirmed one starts.
    await put('q-sent-since', 'queued', 'email.send', 'asked');
    await put('q-3', 'processing', 'email.send', 'asked');

    const started = await call('POST', '/api/job-records/cancel', {
      ...filters,
      yes: true,
      ids: dry.body.ids,
    });
    const done = await finished(started.body.id as string);
    expect(done).toMatchObject({
      state: 'done',
      result: {
        matched: 2,
        confirmed: { confirmed: 3, noLongerMatching: ['q-3'], notConfirmed: 1 },
      },
      summary: [
        "cancelled 2 jobs of the 3 confirmed matching --type 'email.*' --tenant asked: the consumer skips them",
        '1 job confirmed no longer matched, not cancelled (started, finished or changed state meanwhile): q-3',
        "1 job matching since was not confirmed, and left alone: hookline jobs cancel --type 'email.*' --tenant asked names them",
      ],
    });
    const states = await Promise.all(['q-1', 'q-2', 'q-3', 'q-sent-since'].map(stateOf));
    expect(states).toEqual(['cancelled', 'cancelled', 'processing', 'queued']);
  });

  it('names, with the job records, the states a cancel changes: those Cancel matching is offered for', async () => {
    const listed = await call('GET', '/api/job-records');
    expect(listed).toMatchObject({ status: 200, body: { cancellableStates: [...CANCELLABLE_JOB_STATES] } });
  });

  it('refuses a yes without the ids its dry run answered, changing nothing', async () => {
    await put('y-1', 'queued', 'email.send', 'unconfirmed');
    for (const ids of [undefined, [], ['y-1', ''], 'y-1']) {
      const answer = await call('POST', '/api/job-records/cancel', { tenant: 'unconfirmed', yes: true, ids });
      expect(answer).toMatchObject({
        status: 400,
        body: {
          error: expect.stringMatching(/^yes needs ids: the job ids the dry run .* nothing was cancelled$/),
        },
      });
    }
    expect(await stateOf('y-1')).toBe('queued');
  });

  it('refuses no filter, a state a cancel does not change, an invalid pattern and a filter of the wrong shape, changing nothing', async () => {
    await put('r-1', 'queued', 'email.send', 'refused');
    const refusals = [
      [{ yes: true }, /^jobs cancel needs a job id, or --type <pattern>/],
      [
        { tenant: 'refused', state: 'completed', yes: true },
        /^--state completed: a completed job is not waiting/,
      ],
      [{ type: 'email..send', yes: true }, /^--type "email..send" is not a valid type pattern/],
      [{ tenant: 7, yes: true }, /^tenant must be a string: nothing was cancelled$/],
    ] as const;
    for (const [body, error] of refusals) {
      // Confirmed as the page confirms: only the filters are wrong.
      const answer = await call('POST', '/api/job-records/cancel', { ...body, ids: ['r-1'] });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(error);
    }
    expect(await stateOf('r-1')).toBe('queued');
    const { body } = await call('GET', '/api/jobs');
    expect((body.jobs as { label: string }[]).filter((job) => job.label.includes('refused'))).toEqual([]);
  });
});
