/**
 * `hookline jobs cancel` with filters: which jobs it selects and what it refuses (pure), and, against dynalite, that
 * a dry run changes nothing, `--yes` cancels exactly the matching waiting jobs each once, and a job that starts
 * between the listing and its cancel is reported skipped in its state, never cancelled.
 */
import { rmSync } from 'node:fs';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  type GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DEDUPE_TABLE } from '../../lambda/shared/contracts';
import { type JobStatus, jobRecordKey } from '../../lambda/shared/job-record';
import { CliError, UsageError } from '../../lib/cli/errors';
import {
  allCancelled,
  cancelRequestOf,
  filterFlags,
  inCancelledState,
  type JobsCancelMatchingResult,
  jobsCancelMatching,
  matchesTypeAndTenant,
  renderJobsCancelMatching,
  withConfiguredQueue,
} from '../../lib/cli/jobs-cancel-matching';
import { hooklineCommandFor } from '../../lib/cli/output';
import { runCli } from '../../lib/cli/program';
import type { Emulators } from '../../lib/local/emulators';
import {
  jobStateOf,
  jobsOnlyLocalState,
  putJobRecord,
  type SeededJob,
  useDedupeTable,
} from '../helpers/local/dedupe-table';
import { cliHarness, localTestTarget, recordingOutput, stackTarget, testBackend } from './helpers';

describe('jobs cancel: an id or filters', () => {
  it('takes an id alone as the cancel of one job', () => {
    expect(cancelRequestOf('job-1', {})).toEqual({ id: 'job-1' });
  });

  it('combines the filters it is given', () => {
    expect(cancelRequestOf(undefined, { type: 'email.*', tenant: 'acct_1', state: 'queued' })).toEqual({
      filter: { type: 'email.*', tenant: 'acct_1', state: 'queued' },
    });
  });

  it('takes --queue alone as a filter, and keeps no filter it was not given', () => {
    expect(cancelRequestOf(undefined, { queue: 'jobs' })).toStrictEqual({ filter: { queue: 'jobs' } });
  });

  it("checks --queue against the target's queues: a configured one stays, an unknown one is refused naming them", () => {
    const target = stackTarget();
    expect(withConfiguredQueue(target, { queue: 'orders', tenant: 't' })).toEqual({
      queue: 'orders',
      tenant: 't',
    });
    expect(() => withConfiguredQueue(target, { queue: 'nope' })).toThrow(
      'unknown queue "nope" in stack Hookline in us-east-1: use one of events, orders',
    );
    expect(() => withConfiguredQueue(target, { queue: ' ' })).toThrow('--queue must not be empty');
  });

  it('refuses an id with filters, naming the filters to drop', () => {
    const both = () => cancelRequestOf('job-1', { tenant: 'acct_1', queue: 'jobs' });
    expect(both).toThrow(UsageError);
    expect(both).toThrow('jobs cancel takes a job id or filters, not both: drop --tenant, --queue');
  });

  it('refuses neither an id nor a filter: an empty selection never means every job', () => {
    expect(() => cancelRequestOf(undefined, {})).toThrow(UsageError);
    expect(() => cancelRequestOf(undefined, {})).toThrow(
      'jobs cancel needs a job id, or --type <pattern>, --tenant <tenant>, --queue <name> or --state <state>',
    );
  });

  it('refuses a state a cancel does not change, and an unknown one, naming those it changes', () => {
    const valid = 'use one of scheduled, waiting-children, queued, child-failed';
    expect(() => cancelRequestOf(undefined, { state: 'processing' })).toThrow(
      `--state processing: a processing job is not waiting to start, so it cannot be cancelled: ${valid}`,
    );
    expect(() => cancelRequestOf(undefined, { state: 'waiting' })).toThrow(
      `--state waiting is not a job state: ${valid}`,
    );
    expect(() => cancelRequestOf(undefined, { state: 'cancelled' })).toThrow(UsageError);
  });

  it('refuses an empty tenant and an empty or invalid type pattern', () => {
    expect(() => cancelRequestOf(undefined, { tenant: ' ' })).toThrow('--tenant must not be empty');
    expect(() => cancelRequestOf(undefined, { type: '' })).toThrow('--type must not be empty');
    expect(() => cancelRequestOf(undefined, { type: 'email..send' })).toThrow(
      /--type "email..send" is not a valid type pattern: .*empty segment/,
    );
  });

  it('exits 2 for a usage error, before it reads anything', async () => {
    const h = cliHarness();
    expect(await runCli(['jobs', 'cancel', 'job-1', '--type', 'email.*', '--local'], h.deps)).toBe(2);
    expect(h.stderr()).toContain('jobs cancel takes a job id or filters, not both');
    const none = cliHarness();
    expect(await runCli(['jobs', 'cancel', '--yes', '--local'], none.deps)).toBe(2);
    expect(none.stderr()).toContain('jobs cancel needs a job id');
    // An unset variable leaves the flag without its value: the next flag is refused as one, not taken as the tenant.
    const unset = cliHarness();
    expect(await runCli(['jobs', 'cancel', '--tenant', '--yes', '--local'], unset.deps)).toBe(2);
    expect(unset.connects).toEqual([]);
  });
});

describe('jobs cancel: which jobs a filter selects', () => {
  const job = (type: string, tenant?: string) => ({
    id: 'j',
    state: 'queued' as const,
    type,
    ...(tenant ? { tenant } : {}),
  });

  it("matches types in the routes' dialect: * one segment, ** anything", () => {
    const one = matchesTypeAndTenant({ type: 'email.*' });
    expect([one(job('email.send')), one(job('email.send.bulk')), one(job('sms.send'))]).toEqual([
      true,
      false,
      false,
    ]);
    const any = matchesTypeAndTenant({ type: 'email.**' });
    expect(any(job('email.send.bulk'))).toBe(true);
  });

  it('matches a tenant exactly, and both filters together', () => {
    const both = matchesTypeAndTenant({ type: 'email.*', tenant: 'acct_1' });
    expect([
      both(job('email.send', 'acct_1')),
      both(job('email.send', 'acct_10')),
      both(job('email.send')),
      both(job('sms.send', 'acct_1')),
    ]).toEqual([true, false, false, false]);
  });

  it('matches a type alone whatever the tenant, and a tenant alone whatever the type', () => {
    expect(matchesTypeAndTenant({ type: 'email.*' })(job('email.send', 'acct_1'))).toBe(true);
    expect(matchesTypeAndTenant({ tenant: 'acct_1' })(job('sms.send', 'acct_1'))).toBe(true);
  });

  it('never matches a type pattern, not even **, with a job that has no type', () => {
    const untyped: JobStatus = { id: 'j', state: 'queued' };
    expect(matchesTypeAndTenant({ type: '**' })(untyped)).toBe(false);
    expect(matchesTypeAndTenant({ tenant: 'acct_1' })({ ...untyped, tenant: 'acct_1' })).toBe(true);
  });

  it('selects only jobs that have not started, or only those of --state', () => {
    const any = [
      'scheduled',
      'waiting-children',
      'queued',
      'child-failed',
      'processing',
      'retrying',
      'completed',
      'dead-lettered',
      'cancelled',
    ] as const;
    expect(any.filter((state) => inCancelledState({ tenant: 't' }, state))).toEqual([
      'scheduled',
      'waiting-children',
      'queued',
      'child-failed',
    ]);
    expect(any.filter((state) => inCancelledState({ state: 'scheduled' }, state))).toEqual(['scheduled']);
  });

  it('repeats the filter as flags a shell reads as typed', () => {
    expect(filterFlags({ type: 'email.*', tenant: "o'brien", queue: 'jobs', state: 'queued' })).toBe(
      `--type 'email.*' --tenant 'o'\\''brien' --queue jobs --state queued`,
    );
  });
});

describe('jobs cancel: what it says', () => {
  const base: JobsCancelMatchingResult = {
    filter: { tenant: 'acct_1' },
    matched: 12,
    byState: { queued: 8, scheduled: 4 },
    dryRun: true,
    ids: Array.from({ length: 12 }, (_, n) => `j${n}`),
    cancelled: [],
    skipped: [],
  };

  it('a dry run names the count, the first ids, and the command that cancels them with the same target', () => {
    const output = Object.assign(recordingOutput(), {
      command: (args: string) => hooklineCommandFor({ local: true }, args),
    });
    renderJobsCancelMatching(output, base);
    expect(output.lines).toEqual([
      '12 jobs match --tenant acct_1 (8 queued, 4 scheduled): j0, j1, j2, j3, j4, j5, j6, j7, j8, j9, and 2 more',
      'nothing was cancelled: to cancel them, hookline jobs cancel --tenant acct_1 --yes --local (--json lists every id)',
    ]);
  });

  it('a dry run of ten jobs or fewer names them all, with no count of more', () => {
    const output = recordingOutput();
    renderJobsCancelMatching(output, {
      ...base,
      matched: 10,
      byState: { queued: 10 },
      ids: base.ids.slice(0, 10),
    });
    expect(output.lines[0]).toBe(
      '10 jobs match --tenant acct_1 (10 queued): j0, j1, j2, j3, j4, j5, j6, j7, j8, j9',
    );
  });

  it('names the first ten jobs skipped and counts the rest, a job whose record expired as such', () => {
    const output = recordingOutput();
    renderJobsCancelMatching(output, {
      ...base,
      dryRun: false,
      cancelled: [],
      skipped: [
        { id: 'j0', state: 'expired' },
        ...base.ids.slice(1).map((id) => ({ id, state: 'processing' as const })),
      ],
    });
    expect(output.lines).toEqual([
      'cancelled 0 jobs of 12 matching --tenant acct_1: the consumer skips them',
      'skipped j0: its record expired before it could be cancelled',
      ...base.ids
        .slice(1, 10)
        .map(
          (id) =>
            `skipped ${id}: it is processing: it started before it could be cancelled, and is not cancelled`,
        ),
      'skipped 2 more (--json lists them)',
    ]);
  });

  it('names ten jobs skipped with no count of more', () => {
    const output = recordingOutput();
    const skipped = base.ids.slice(0, 10).map((id) => ({ id, state: 'completed' as const }));
    renderJobsCancelMatching(output, { ...base, dryRun: false, cancelled: ['j10', 'j11'], skipped });
    expect(output.lines).toHaveLength(11);
    expect(output.lines.some((text) => text.includes('more'))).toBe(false);
  });

  it('a cancel stopped part way says why, how many jobs it did not reach, and the command that cancels them', () => {
    const output = Object.assign(recordingOutput(), {
      command: (args: string) => hooklineCommandFor({ local: true }, args),
    });
    renderJobsCancelMatching(output, {
      ...base,
      dryRun: false,
      cancelled: ['j0', 'j1', 'j2'],
      skipped: [{ id: 'j3', state: 'processing' }],
      stoppedBy: 'ThrottlingException: Rate exceeded',
    });
    expect(output.lines.at(-1)).toBe(
      'stopped: ThrottlingException: Rate exceeded; 8 jobs not reached, left as they were: hookline jobs cancel --tenant acct_1 --yes --local cancels them',
    );
  });

  it('names each job skipped because it started, and exits 1 then; one cancelled by another cancel is no failure', () => {
    const output = recordingOutput();
    const started: JobsCancelMatchingResult = {
      ...base,
      dryRun: false,
      cancelled: base.ids.slice(2),
      skipped: [
        { id: 'j0', state: 'processing' },
        { id: 'j1', state: 'cancelled' },
      ],
    };
    renderJobsCancelMatching(output, started);
    expect(output.lines).toEqual([
      'cancelled 10 jobs of 12 matching --tenant acct_1: the consumer skips them',
      'skipped j0: it is processing: it started before it could be cancelled, and is not cancelled',
      'skipped j1: another cancel cancelled it meanwhile',
    ]);
    expect(allCancelled(started)).toBe(false);
    expect(allCancelled({ ...started, skipped: [{ id: 'j1', state: 'cancelled' }] })).toBe(true);
  });

  it('a confirmed cancel counts the confirmed jobs, names the first that no longer matched, and counts the matches left alone', () => {
    const output = recordingOutput();
    const gone = Array.from({ length: 12 }, (_, n) => `g${n}`);
    renderJobsCancelMatching(output, {
      ...base,
      dryRun: false,
      cancelled: base.ids,
      confirmed: { confirmed: 24, noLongerMatching: gone, notConfirmed: 3 },
    });
    expect(output.lines).toEqual([
      'cancelled 12 jobs of the 24 confirmed matching --tenant acct_1: the consumer skips them',
      '12 jobs confirmed no longer matched, not cancelled (started, finished or changed state meanwhile): g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, and 2 more',
      '3 jobs matching since were not confirmed, and left alone: hookline jobs cancel --tenant acct_1 names them',
    ]);
  });

  it('a confirmed cancel names up to ten confirmed jobs that no longer matched with no count of more, and says one match since was', () => {
    const output = recordingOutput();
    const gone = Array.from({ length: 10 }, (_, n) => `g${n}`);
    renderJobsCancelMatching(output, {
      ...base,
      dryRun: false,
      cancelled: base.ids,
      confirmed: { confirmed: 22, noLongerMatching: gone, notConfirmed: 1 },
    });
    expect(output.lines.slice(1)).toEqual([
      '10 jobs confirmed no longer matched, not cancelled (started, finished or changed state meanwhile): g0, g1, g2, g3, g4, g5, g6, g7, g8, g9',
      '1 job matching since was not confirmed, and left alone: hookline jobs cancel --tenant acct_1 names them',
    ]);
  });
});

describe('jobs cancel with filters on the job records', () => {
  const table = 'cancel-matching-dedupe';
  let client: DynamoDBClient;
  let emulators: Emulators;
  useDedupeTable(table, (ready, started) => {
    client = ready;
    emulators = started;
  });
  const output = {};

  const put = (id: string, job: SeededJob) => putJobRecord(client, table, id, job);
  const stateOf = (id: string) => jobStateOf(client, table, id);
  const later = new Date(Date.now() + 3_600_000).toISOString();

  /** The real CLI on local mode whose job records are this table's. */
  const localCli = () => {
    const { dir, endpoints } = jobsOnlyLocalState(emulators, table);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    return async (...argv: string[]) => {
      const h = cliHarness({
        env: { HOOKLINE_STATE_DIR: dir },
        connect: async (_options, out) => ({
          target: localTestTarget({ endpoints, region: emulators.region }),
          backend: testBackend({ output: out }),
        }),
      });
      const code = await runCli([...argv, '--local'], h.deps);
      return { code, stdout: h.stdout(), stderr: h.stderr() };
    };
  };

  it('jobs list --type --tenant lists the jobs jobs cancel with the same filters selects, in every state', async () => {
    await put('l-queued', { state: 'queued', type: 'email.send', tenant: 'listed' });
    await put('l-delayed', { state: 'scheduled', type: 'email.send', tenant: 'listed', dueAt: later });
    await put('l-running', { state: 'processing', type: 'email.send', tenant: 'listed' });
    await put('l-nested-type', { state: 'queued', type: 'email.send.bulk', tenant: 'listed' });
    await put('l-other-tenant', { state: 'queued', type: 'email.send', tenant: 'unlisted' });
    await put('l-other-type', { state: 'queued', type: 'sms.send', tenant: 'listed' });
    const cli = localCli();
    const filters = ['--type', 'email.*', '--tenant', 'listed'];

    const listed = await cli('jobs', 'list', ...filters, '--json');
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout) as {
      type: string;
      tenant: string;
      total: number;
      jobs: JobStatus[];
    };
    expect(list).toMatchObject({ type: 'email.*', tenant: 'listed', total: 3 });
    expect(Object.fromEntries(list.jobs.map((job) => [job.id, job.state]))).toEqual({
      'l-queued': 'queued',
      'l-delayed': 'scheduled',
      'l-running': 'processing',
    });
    // What a cancel would change is exactly the listed jobs that have not started.
    const dry = await cli('jobs', 'cancel', ...filters, '--json');
    expect(dry.code).toBe(0);
    expect([...(JSON.parse(dry.stdout) as { ids: string[] }).ids].sort()).toEqual(['l-delayed', 'l-queued']);

    const onlyTenant = await cli('jobs', 'list', '--tenant', 'unlisted', '--json');
    expect((JSON.parse(onlyTenant.stdout) as { jobs: JobStatus[] }).jobs.map((job) => job.id)).toEqual([
      'l-other-tenant',
    ]);
    const onlyType = await cli('jobs', 'list', '--type', 'sms.*', '--json');
    expect((JSON.parse(onlyType.stdout) as { jobs: JobStatus[] }).jobs.map((job) => job.id)).toEqual([
      'l-other-type',
    ]);
    const none = await cli('jobs', 'list', '--type', 'email.*', '--tenant', 'nobody');
    expect(none).toMatchObject({ code: 0, stdout: "no jobs of type 'email.*' for tenant nobody\n" });
  });

  it('jobs cancel <id> cancels that one job, and no other of its type and tenant', async () => {
    await put('one-a', { state: 'queued', type: 'email.send', tenant: 'single' });
    await put('one-b', { state: 'queued', type: 'email.send', tenant: 'single' });
    const answer = await localCli()('jobs', 'cancel', 'one-a', '--json');
    expect(answer).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(answer.stdout)).toMatchObject({ id: 'one-a' });
    expect([await stateOf('one-a'), await stateOf('one-b')]).toEqual(['cancelled', 'queued']);
    await put('one-c', { state: 'queued', type: 'email.send', tenant: 'single' });
    const said = await localCli()('jobs', 'cancel', 'one-c');
    expect(said).toMatchObject({
      code: 0,
      stdout: 'cancelled job one-c (it was queued): the consumer skips it\n',
    });
  });

  it('jobs list refuses an empty --type or --tenant (an unset variable) as a usage error, before anything is read', async () => {
    const cli = localCli();
    for (const [flag, line] of [
      [
        '--type',
        'error: --type must not be empty: give an event type pattern such as "invoice.*", or leave --type out',
      ],
      ['--tenant', 'error: --tenant must not be empty: give the tenant the jobs were sent with'],
    ] as const) {
      const answer = await cli('jobs', 'list', flag, '');
      expect(answer).toMatchObject({ code: 2, stdout: '' });
      expect(answer.stderr).toBe(`${line}\n`);
    }
  });

  it('changes nothing without --yes, then cancels exactly the waiting jobs that match, each once', async () => {
    await put('a-queued', { state: 'queued', type: 'email.send', tenant: 'gone' });
    await put('a-delayed', { state: 'scheduled', type: 'email.send', tenant: 'gone', dueAt: later });
    await put('a-running', { state: 'processing', type: 'email.send', tenant: 'gone' });
    await put('a-done', { state: 'completed', type: 'email.send', tenant: 'gone' });
    await put('a-other-tenant', { state: 'queued', type: 'email.send', tenant: 'stays' });
    await put('a-other-type', { state: 'queued', type: 'sms.send', tenant: 'gone' });
    const store = { client, tableName: table };
    const filter = { type: 'email.*', tenant: 'gone' };

    const dry = await jobsCancelMatching(store, filter, { output });
    expect(dry).toMatchObject({ dryRun: true, matched: 2, cancelled: [], skipped: [] });
    expect([...dry.ids].sort()).toEqual(['a-delayed', 'a-queued']);
    expect(dry.byState).toEqual({ queued: 1, scheduled: 1 });
    expect([await stateOf('a-queued'), await stateOf('a-delayed')]).toEqual(['queued', 'scheduled']);

    const done = await jobsCancelMatching(store, filter, { output, yes: true });
    expect(done).toMatchObject({ dryRun: false, matched: 2, skipped: [] });
    expect([...done.cancelled].sort()).toEqual(['a-delayed', 'a-queued']);
    const states = await Promise.all(
      ['a-queued', 'a-delayed', 'a-running', 'a-done', 'a-other-tenant', 'a-other-type'].map(stateOf),
    );
    expect(states).toEqual(['cancelled', 'cancelled', 'processing', 'completed', 'queued', 'queued']);

    // Run again: nothing waits that matches, which is an error naming the filter, never "cancelled 0".
    const again = jobsCancelMatching(store, filter, { output, yes: true });
    await expect(again).rejects.toThrow(CliError);
    await expect(again).rejects.toThrow(
      "no job matched --type 'email.*' --tenant gone in a state a cancel changes (scheduled, waiting-children, queued, child-failed): nothing was cancelled",
    );
  });

  it("stops at an error part way, saying what it cancelled; an error before any cancel is the command's", async () => {
    for (const id of ['c-1', 'c-2', 'c-3'])
      await put(id, { state: 'queued', type: 'feed.pull', tenant: 'failing' });
    let updates = 0;
    const failingAfter = (allowed: number): DynamoDBClient =>
      ({
        send: async (command: unknown) => {
          if (command instanceof UpdateItemCommand && ++updates > allowed)
            throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
          return client.send(command as GetItemCommand);
        },
      }) as unknown as DynamoDBClient;
    const firstFails = jobsCancelMatching(
      { client: failingAfter(0), tableName: table },
      { tenant: 'failing' },
      { output, yes: true, concurrency: 1 },
    );
    await expect(firstFails).rejects.toThrow('Rate exceeded');
    updates = 0;
    const result = await jobsCancelMatching(
      { client: failingAfter(1), tableName: table },
      { tenant: 'failing' },
      { output, yes: true, concurrency: 1 },
    );
    expect(result).toMatchObject({
      matched: 3,
      cancelled: ['c-1'],
      skipped: [],
      stoppedBy: 'ThrottlingException: Rate exceeded',
    });
    expect(await Promise.all(['c-1', 'c-2', 'c-3'].map(stateOf))).toEqual(['cancelled', 'queued', 'queued']);
    expect(allCancelled(result)).toBe(false);
  });

  it('selects by --queue: a job of another queue is neither named nor cancelled; the scan and the cancels report progress', async () => {
    await put('q-jobs', { state: 'queued', type: 'feed.pull', tenant: 'by-queue' });
    await put('q-other', { state: 'queued', type: 'feed.pull', tenant: 'by-queue', queue: 'other' });
    const progress = recordingOutput();
    const result = await jobsCancelMatching(
      { client, tableName: table },
      { tenant: 'by-queue', queue: 'other' },
      {
        output,
        yes: true,
        scanProgress: progress.progress('scanned'),
        cancelProgress: (total) => progress.progress('cancelled', total),
      },
    );
    expect(result).toMatchObject({ matched: 1, ids: ['q-other'], cancelled: ['q-other'] });
    expect(await stateOf('q-jobs')).toBe('queued');
    expect(progress.progressUpdates.map(([label]) => label)).toContain('scanned');
    expect(progress.progressUpdates).toContainEqual(['cancelled', 1, 1]);
  });

  it('starts no cancel after the first error, even one that would succeed', async () => {
    for (const id of ['e-1', 'e-2', 'e-3'])
      await put(id, { state: 'queued', type: 'feed.pull', tenant: 'one-error' });
    let updates = 0;
    const secondFails = {
      send: async (command: unknown) => {
        if (command instanceof UpdateItemCommand && ++updates === 2)
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return client.send(command as GetItemCommand);
      },
    } as unknown as DynamoDBClient;
    const result = await jobsCancelMatching(
      { client: secondFails, tableName: table },
      { tenant: 'one-error' },
      { output, yes: true, concurrency: 1 },
    );
    expect(result).toMatchObject({ cancelled: ['e-1'], stoppedBy: 'ThrottlingException: Rate exceeded' });
    expect(updates).toBe(2);
    expect(await Promise.all(['e-1', 'e-2', 'e-3'].map(stateOf))).toEqual(['cancelled', 'queued', 'queued']);
  });

  it('runs at most its concurrency of cancels at once', async () => {
    const ids = Array.from({ length: 12 }, (_, n) => `w-${n}`);
    for (const id of ids) await put(id, { state: 'queued', type: 'feed.pull', tenant: 'paced' });
    let running = 0;
    let most = 0;
    const counting = {
      send: async (command: unknown) => {
        if (!(command instanceof UpdateItemCommand)) return client.send(command as GetItemCommand);
        most = Math.max(most, ++running);
        try {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return await client.send(command);
        } finally {
          running--;
        }
      },
    } as unknown as DynamoDBClient;
    const result = await jobsCancelMatching(
      { client: counting, tableName: table },
      { tenant: 'paced' },
      { output, yes: true, concurrency: 3 },
    );
    expect(result.cancelled).toHaveLength(12);
    expect(most).toBe(3);
  });

  it('reports every job skipped, and does not fail, when each one started before its cancel reached it', async () => {
    await put('s-1', { state: 'queued', type: 'report.build', tenant: 'all-started' });
    await put('s-2', { state: 'queued', type: 'report.build', tenant: 'all-started' });
    const starting = {
      send: async (command: unknown) => {
        if (command instanceof UpdateItemCommand) {
          const pk = command.input.Key?.[DEDUPE_TABLE.partitionKey]?.S;
          const id = pk === jobRecordKey('s-1') ? 's-1' : 's-2';
          await put(id, { state: 'processing', type: 'report.build', tenant: 'all-started' });
        }
        return client.send(command as GetItemCommand);
      },
    } as unknown as DynamoDBClient;
    const result = await jobsCancelMatching(
      { client: starting, tableName: table },
      { tenant: 'all-started' },
      { output, yes: true },
    );
    expect(result).toMatchObject({ matched: 2, cancelled: [] });
    expect(result.stoppedBy).toBeUndefined();
    expect([...result.skipped].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 's-1', state: 'processing' },
      { id: 's-2', state: 'processing' },
    ]);
    expect(allCancelled(result)).toBe(false);
  });

  it('reports a job whose record expired between the listing and its cancel as skipped, expired', async () => {
    await put('x-expires', { state: 'queued', type: 'report.build', tenant: 'expiring' });
    const expiring = {
      send: async (command: unknown) => {
        if (command instanceof UpdateItemCommand)
          await client.send(
            new DeleteItemCommand({ TableName: table, Key: command.input.Key as Record<string, never> }),
          );
        return client.send(command as GetItemCommand);
      },
    } as unknown as DynamoDBClient;
    const result = await jobsCancelMatching(
      { client: expiring, tableName: table },
      { tenant: 'expiring' },
      { output, yes: true },
    );
    expect(result).toMatchObject({ cancelled: [], skipped: [{ id: 'x-expires', state: 'expired' }] });
  });

  it('cancels nothing when none of the confirmed jobs still matches, and names the matches since it leaves alone', async () => {
    await put('n-since-1', { state: 'queued', type: 'report.build', tenant: 'confirming' });
    const store = { client, tableName: table };
    const filter = { tenant: 'confirming' };
    const hints = { command: (args: string) => hooklineCommandFor({ local: true }, args) };
    const one = jobsCancelMatching(store, filter, { output: hints, yes: true, confirmed: ['n-started'] });
    await expect(one).rejects.toThrow(CliError);
    await expect(one).rejects.toThrow(
      'the confirmed job no longer matches --tenant confirming in a state a cancel changes (started, finished or changed state meanwhile): nothing was cancelled; 1 job matching since was not confirmed, and is left alone (hookline jobs cancel --tenant confirming --local names them)',
    );
    await put('n-since-2', { state: 'queued', type: 'report.build', tenant: 'confirming' });
    await expect(
      jobsCancelMatching(store, filter, { output, yes: true, confirmed: ['n-a', 'n-b'] }),
    ).rejects.toThrow(
      'none of the 2 confirmed jobs still matches --tenant confirming in a state a cancel changes (started, finished or changed state meanwhile): nothing was cancelled; 2 jobs matching since were not confirmed, and are left alone (hookline jobs cancel --tenant confirming names them)',
    );
    // Nothing matches at all: nothing to name beside it.
    await expect(
      jobsCancelMatching(store, { tenant: 'nobody-confirming' }, { output, yes: true, confirmed: ['n-a'] }),
    ).rejects.toThrow(
      /^the confirmed job no longer matches --tenant nobody-confirming in a state a cancel changes \(started, finished or changed state meanwhile\): nothing was cancelled$/,
    );
    expect(await Promise.all(['n-since-1', 'n-since-2'].map(stateOf))).toEqual(['queued', 'queued']);
  });

  it('cancels nothing more once interrupted (Ctrl-C), and says so rather than failing', async () => {
    await put('d-1', { state: 'queued', type: 'feed.pull', tenant: 'interrupted' });
    const interrupted = new AbortController();
    interrupted.abort();
    const result = await jobsCancelMatching(
      { client, tableName: table },
      { tenant: 'interrupted' },
      { output, yes: true, signal: interrupted.signal },
    );
    expect(result).toMatchObject({
      matched: 1,
      cancelled: [],
      stoppedBy: 'Interrupted: stopped cancelling by Ctrl-C',
    });
    expect(await stateOf('d-1')).toBe('queued');
  });

  it('says Ctrl-C stopped it when a cancel under way fails after Ctrl-C: the first to stop it is what it says', async () => {
    for (const id of ['e-1', 'e-2', 'e-3'])
      await put(id, { state: 'queued', type: 'feed.pull', tenant: 'interrupted-then-failing' });
    const interrupted = new AbortController();
    const ctrlC = new Promise((resolve) => interrupted.signal.addEventListener('abort', resolve));
    let updates = 0;
    // The first cancel ends as Ctrl-C is pressed; the second, under way then, fails a moment after.
    const failingAfterCtrlC = {
      send: async (command: unknown) => {
        if (!(command instanceof UpdateItemCommand)) return client.send(command as GetItemCommand);
        if (++updates === 2) {
          await ctrlC;
          await new Promise((resolve) => setImmediate(resolve));
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        }
        const answer = await client.send(command);
        interrupted.abort();
        return answer;
      },
    } as unknown as DynamoDBClient;
    const result = await jobsCancelMatching(
      { client: failingAfterCtrlC, tableName: table },
      { tenant: 'interrupted-then-failing' },
      { output, yes: true, concurrency: 2, signal: interrupted.signal },
    );
    expect(result).toMatchObject({ matched: 3, stoppedBy: 'Interrupted: stopped cancelling by Ctrl-C' });
    expect(result.cancelled).toHaveLength(1);
    expect(updates).toBe(2);
    const states = await Promise.all(['e-1', 'e-2', 'e-3'].map(stateOf));
    expect(states.sort()).toEqual(['cancelled', 'queued', 'queued']);
  });

  it('reports a job that started between the listing and its cancel as skipped in its state, not cancelled', async () => {
    await put('b-starts', { state: 'queued', type: 'report.build', tenant: 'racer' });
    await put('b-waits', { state: 'queued', type: 'report.build', tenant: 'racer' });
    // The consumer starts b-starts just before the cancel's conditional write reaches it.
    const starting: DynamoDBClient = {
      send: async (command: unknown) => {
        if (
          command instanceof UpdateItemCommand &&
          command.input.Key?.[DEDUPE_TABLE.partitionKey]?.S === jobRecordKey('b-starts')
        )
          await put('b-starts', { state: 'processing', type: 'report.build', tenant: 'racer' });
        return client.send(command as GetItemCommand);
      },
    } as unknown as DynamoDBClient;
    const result = await jobsCancelMatching(
      { client: starting, tableName: table },
      { tenant: 'racer' },
      { output, yes: true },
    );
    expect(result).toMatchObject({
      matched: 2,
      cancelled: ['b-waits'],
      skipped: [{ id: 'b-starts', state: 'processing' }],
    });
    expect(await stateOf('b-starts')).toBe('processing');
    expect(allCancelled(result)).toBe(false);
  });
});
