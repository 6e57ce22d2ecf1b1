/**
 * Flows end to end through the pure cores: the producer's `sendFlow` and the consumer runtime on job records in
 * dynalite, with SQS as a list of the messages sent (by queue URL) that the test delivers as it likes: in any
 * order, twice, or after a runtime that died between two steps.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../lambda/shared/envelope';
import { MAX_CHILD_RESULT_BYTES } from '../../../lambda/shared/job-record';
import { failedDelete, renderFailedDelete } from '../../../lib/cli/failed-delete';
import { discardDeletedJob, jobStateNote, jobsShow } from '../../../lib/cli/jobs';
import { installFakeQueue } from '../../cli/fake-queue';
import { EVENTS, stackTarget, testBackend } from '../../cli/helpers';
import { useDedupeTable } from '../../helpers/local/dedupe-table';
import { fifoReport, flowWorld, part, QUEUES, report, threeParts } from './flow-world';

const table = 'flows-dedupe';
let client: DynamoDBClient;
useDedupeTable(table, (ready) => {
  client = ready;
});

describe('a flow: a parent that runs after all its children', () => {
  let world: ReturnType<typeof flowWorld>;
  beforeEach(() => {
    world = flowWorld(client, table);
  });

  it('records the parent waiting for its children and sends only the children', async () => {
    const result = await world.producer.sendFlow(threeParts('shape'));
    expect(result).toMatchObject({
      id: 'shape-parent',
      state: 'waiting-children',
      children: [{ id: 'shape-c1', state: 'queued' }, { id: 'shape-c2' }, { id: 'shape-c3' }],
    });
    expect(world.sent.map((m) => `${m.url} ${parseEnvelope(m.body).id}`)).toEqual([
      'https://sqs/jobs shape-c1',
      'https://sqs/jobs shape-c2',
      'https://sqs/jobs shape-c3',
    ]);
    expect(await world.records.read('shape-parent')).toMatchObject({
      state: 'waiting-children',
      queue: 'reports',
      children: { total: 3, completed: [], pending: ['shape-c1', 'shape-c2', 'shape-c3'] },
    });
    expect(await world.records.read('shape-c2')).toMatchObject({ state: 'queued', parent: 'shape-parent' });
  });

  it('sends the parent once, when its last child completes, and its handler reads every result', async () => {
    await world.producer.sendFlow(threeParts('run'));
    await world.deliver(QUEUES.jobs.url, ['run-c1', 'run-c3']);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toEqual([]);
    expect((await world.records.read('run-parent'))?.children).toMatchObject({ pending: ['run-c2'] });

    await world.deliver(QUEUES.jobs.url, ['run-c2']);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toHaveLength(1);
    expect((await world.records.read('run-parent'))?.state).toBe('queued');

    // Every child delivered again (a duplicate of each): the parent is not sent a second time.
    await world.deliver(QUEUES.jobs.url);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toHaveLength(1);

    await world.deliver(QUEUES.reports.url);
    // A second copy of the parent's message (two children's redeliveries both sending it) runs nothing again.
    await world.deliver(QUEUES.reports.url);
    expect(world.seen).toEqual([{ 'run-c1': { n: 10 }, 'run-c2': { n: 20 }, 'run-c3': { n: 30 } }]);
    expect(world.runs.filter((id) => id === 'run-parent')).toHaveLength(1);
    expect(await world.records.read('run-parent')).toMatchObject({
      state: 'completed',
      result: { parts: 3 },
    });
  });

  it('still sends the parent when the runtime died between counting the last child and sending it', async () => {
    world = flowWorld(client, table, { sendFails: 1 });
    await world.producer.sendFlow(threeParts('crash'));
    const failed = await world.deliver(QUEUES.jobs.url);
    // The last child's record comes back: its handler ran, its parent was counted, not sent.
    expect(failed).toHaveLength(1);
    expect(await world.records.read('crash-parent')).toMatchObject({
      state: 'waiting-children',
      children: { completed: ['crash-c1', 'crash-c2', 'crash-c3'] },
    });
    expect(await world.deliver(QUEUES.jobs.url, failed, 2)).toEqual([]);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toHaveLength(1);
    // Its handler did not run again for it: the idempotency record of its first run answered the redelivery.
    expect(world.runs.filter((id) => id.startsWith('crash-c'))).toHaveLength(3);
    expect((await world.records.read('crash-parent'))?.state).toBe('queued');
  });

  it('runs a parent once with idempotency on when its first send was replaced and is delivered first', async () => {
    world = flowWorld(client, table, { sentMarkFails: 1 });
    await world.producer.sendFlow(threeParts('replaced'));
    const died = await world.deliver(QUEUES.jobs.url);
    expect(died).toHaveLength(1);
    // What the operator reads meanwhile: the send may have gone out, and what happens either way.
    expect((await jobsShow({ client, tableName: table }, 'replaced-parent', {})).note).toMatch(
      /could not send it or ended before saying it did \(its claim of the send lasts until \S+Z; after that a child coming back sends it, and a send that one made is skipped\), so that child comes back/,
    );
    // The invocation that sent the parent is over: the child's next delivery sends it again.
    world.elapse(30_000);
    expect(await world.deliver(QUEUES.jobs.url, died, 2)).toEqual([]);
    const [first, second] = world.sent.filter((m) => m.url === QUEUES.reports.url);
    // The replaced send is skipped without taking the idempotency key, which the send that replaced it needs.
    expect(await world.deliverMessage(first as (typeof world.sent)[number])).toBe(true);
    expect(world.runs).not.toContain('replaced-parent');
    expect(await world.deliverMessage(second as (typeof world.sent)[number])).toBe(true);
    expect(world.runs.filter((id) => id === 'replaced-parent')).toHaveLength(1);
    expect((await world.records.read('replaced-parent'))?.state).toBe('completed');
  });

  it('says no send claim is pending once a parent sent by a runtime that died before marking it sent ran', async () => {
    world = flowWorld(client, table, { sentMarkFails: 1 });
    await world.producer.sendFlow(threeParts('ranclaimed'));
    expect(await world.deliver(QUEUES.jobs.url)).toHaveLength(1);
    expect((await world.records.read('ranclaimed-parent'))?.sendClaimedUntil).toBeDefined();
    // Its send went out after all, and is delivered before any child comes back: the parent runs from it.
    expect(await world.deliver(QUEUES.reports.url)).toEqual([]);

    const parent = await world.records.read('ranclaimed-parent');
    expect(parent?.state).toBe('completed');
    // No child comes back to send it again, and nothing is pending: the claim was the send that ran.
    expect(parent).not.toHaveProperty('sendClaimedUntil');
  });

  it('keeps a child completed when its parent could not be told on its last attempt, and its redrive sends the parent', async () => {
    world = flowWorld(client, table, { sendFails: 1 });
    await world.producer.sendFlow(threeParts('last'));
    const failed = await world.deliver(QUEUES.jobs.url, undefined, 3);
    // Dead-lettered (done, not reported failed), with why; the child's record still says what happened to it.
    expect(failed).toEqual([]);
    const counted = (await world.records.read('last-parent'))?.children?.completed ?? [];
    expect(counted).toHaveLength(3);
    for (const id of counted) expect((await world.records.read(id))?.state).toBe('completed');
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toEqual([]);
    // What the operator reads of the parent: why it waits although every child completed.
    expect((await jobsShow({ client, tableName: table }, 'last-parent', {})).note).toMatch(
      /^all 3 children completed and this job was not sent yet: .* FlowParentError/,
    );
    // The redrive: a duplicate of a child that ran, which sends its parent.
    await world.deliver(QUEUES.jobs.url, ['last-c1']);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toHaveLength(1);
  });

  it('retries a child of one attempt whose parent could not be told, keeping it completed, and its next delivery sends the parent', async () => {
    world = flowWorld(client, table, { sendFails: 1 });
    await world.producer.sendFlow({
      ...threeParts('once-only'),
      children: [1, 2].map((n) => ({
        job: part,
        payload: { n },
        options: { id: `once-only-c${n}`, attempts: 1 },
      })),
    });
    const failed = await world.deliver(QUEUES.jobs.url);
    // Its one attempt is its handler's run, which succeeded: the step after it is retried, not dead-lettered.
    expect(failed).toHaveLength(1);
    expect((await world.records.read(failed[0] as string))?.state).toBe('completed');
    expect(await world.deliver(QUEUES.jobs.url, failed, 2)).toEqual([]);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toHaveLength(1);
    expect(world.runs.filter((id) => id.startsWith('once-only-c'))).toHaveLength(2);
  });

  it('says of a parent whose dead-lettered child an operator deleted that it can never be sent, and to cancel it', async () => {
    world = flowWorld(client, table, { failFirstOf: 'gone-c2' });
    await world.producer.sendFlow(threeParts('gone'));
    await world.deliver(QUEUES.jobs.url);
    const child = await world.records.read('gone-c2');
    const at = new Date('2026-12-02T09:00:00Z');
    expect(await world.records.discarded('gone-c2', child?.reason as string, at, child?.generation)).toBe(
      true,
    );
    const { note } = await jobsShow({ client, tableName: table }, 'gone-parent', {});
    expect(note).toBe(
      'waiting for its children: 2 of 3 completed, waiting for gone-c2; child gone-c2 was deleted from its dead-letter queue by an operator at 2026-12-02T09:00:00.000Z (hookline failed delete): it never runs again, so this job can never be sent; cancel this job (hookline jobs cancel gone-parent)',
    );
    // And what the operator reads of the deleted child itself.
    // Under --local, the hint keeps the flag, so following it cancels the local parent.
    const local = { command: (args: string) => `hookline ${args} --local` };
    expect(jobStateNote(await jobsShow({ client, tableName: table }, 'gone-c2', local), local)).toMatch(
      /; its flow parent gone-parent can never be sent now: cancel it \(hookline jobs cancel gone-parent --local\)$/,
    );
  });

  it('dead-letters a child of one attempt whose parent could not be told without idempotency, keeping it completed and its handler run once', async () => {
    world = flowWorld(client, table, { sendFails: 1, idempotency: false });
    await world.producer.sendFlow({
      ...threeParts('no-gate'),
      children: [{ job: part, payload: { n: 1 }, options: { id: 'no-gate-c1', attempts: 1 } }],
    });
    expect(await world.deliver(QUEUES.jobs.url)).toEqual([]);
    expect(world.runs).toEqual(['no-gate-c1']);
    expect((await world.records.read('no-gate-c1'))?.state).toBe('completed');
  });

  it('leaves the parent waiting while a child is dead-lettered, and finishes the flow once it runs again', async () => {
    world = flowWorld(client, table, { failFirstOf: 'dead-c2' });
    await world.producer.sendFlow(threeParts('dead'));
    await world.deliver(QUEUES.jobs.url);
    expect((await world.records.read('dead-c2'))?.state).toBe('dead-lettered');
    expect(await world.records.read('dead-parent')).toMatchObject({
      state: 'waiting-children',
      children: { pending: ['dead-c2'] },
    });
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toEqual([]);
    // A redrive sends the same message back: it runs again from attempt 1 and completes.
    await world.deliver(QUEUES.jobs.url, ['dead-c2']);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toHaveLength(1);
  });

  it('never sends a parent cancelled while it waits', async () => {
    await world.producer.sendFlow(threeParts('cancel'));
    expect(await world.producer.cancel('cancel-parent')).toBe(true);
    await world.deliver(QUEUES.jobs.url);
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toEqual([]);
    expect((await world.records.read('cancel-parent'))?.state).toBe('cancelled');
  });

  it('runs nested flows bottom up: a child with children of its own waits for them', async () => {
    await world.producer.sendFlow({
      job: report,
      payload: { name: 'top' },
      options: { id: 'nest-top' },
      children: [
        { job: part, payload: { n: 1 }, options: { id: 'nest-leaf' } },
        {
          job: report,
          payload: { name: 'middle' },
          options: { id: 'nest-middle' },
          children: [{ job: part, payload: { n: 2 }, options: { id: 'nest-deep' } }],
        },
      ],
    });
    expect(world.sent.map((m) => parseEnvelope(m.body).id)).toEqual(['nest-leaf', 'nest-deep']);
    await world.deliver(QUEUES.jobs.url);
    expect((await world.records.read('nest-top'))?.children?.pending).toEqual(['nest-middle']);
    await world.deliver(QUEUES.reports.url, ['nest-middle']);
    await world.deliver(QUEUES.reports.url, ['nest-top']);
    expect(world.seen).toEqual([
      { 'nest-deep': { n: 20 } },
      { 'nest-leaf': { n: 10 }, 'nest-middle': { parts: 1 } },
    ]);
  });
});

describe('a flow child that ran and could not tell its parent, deleted from its dead-letter queue', () => {
  const sqs = mockClient(SQSClient);
  afterAll(() => sqs.restore());
  const local = { command: (args: string) => `hookline ${args} --local` };
  const store = () => ({ client, tableName: table });

  /** `hookline failed delete --type '**' --yes` of what the world dead-lettered, marking its records as the CLI does. */
  async function deleteDeadLetters(world: ReturnType<typeof flowWorld>) {
    sqs.reset();
    installFakeQueue(sqs, EVENTS.deadLetterUrl, world.deadLetters());
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      yes: true,
      recordJobs: async (jobs, at) => {
        await Promise.all(jobs.map((job) => discardDeletedJob(world.records, job, at)));
      },
    });
    return { result, output: backend.output, at: new Date(backend.clock.now()).toISOString() };
  }

  it('keeps the child completed and marks it deleted; its parent, the child and the summary say nothing sends the parent unless another child comes back, and to cancel it', async () => {
    const world = flowWorld(client, table, { sendFails: 1 });
    await world.producer.sendFlow(threeParts('told'));
    expect(await world.deliver(QUEUES.jobs.url, undefined, 3)).toEqual([]);
    const [letter] = world.deadLetters();
    const childId = parseEnvelope(letter?.Body ?? '').id;
    const before = await world.records.read(childId);
    expect(before?.state).toBe('completed');

    const { result, output, at } = await deleteDeadLetters(world);
    expect(result).toMatchObject({ deletedIds: [childId], flowParents: ['told-parent'], failed: 0 });
    // It did run: still completed, with when it completed, and now when its dead letter was deleted.
    expect(await world.records.read(childId)).toEqual({ ...before, discardedAt: at });
    expect((await jobsShow(store(), 'told-parent', local)).note).toBe(
      `all 3 children completed and this job was not sent yet: the consumer that counted the last one could not send it, and the dead letter of child ${childId} that would send it (FlowParentError) was deleted by an operator at ${at} (hookline failed delete): only another of its children coming back sends it now, such as the redrive of its dead letter with FlowParentError (hookline failed list jobs --local); with none left, this job can never be sent: cancel it (hookline jobs cancel told-parent --local)`,
    );
    expect(jobStateNote(await jobsShow(store(), childId, local), local)).toBe(
      `completed, but its flow parent told-parent may not know, or was not sent: its dead letter that would tell it or send it (FlowParentError) was deleted by an operator at ${at} (hookline failed delete); hookline jobs show told-parent --local says whether anything can still send it, else cancel it (hookline jobs cancel told-parent --local)`,
    );
    renderFailedDelete(output, result);
    expect(output.lines.slice(-2)).toEqual([
      "flow parents of deleted jobs that ran and could not tell them (FlowParentError): one that counted every child is sent by the redrive of another child's dead letter with FlowParentError, if one is left; jobs show says whether, else cancel it",
      '  hookline jobs show told-parent',
    ]);
  });

  it('says a parent that counted every child is still sent by the redrive of another untold child, when one of two such dead letters is deleted', async () => {
    // Every child counted; the parent's send failed on the last child's attempt and again on a later delivery of
    // another child: two dead letters with FlowParentError, each of whose redrives would send the parent.
    const world = flowWorld(client, table, { sendFails: 2 });
    await world.producer.sendFlow(threeParts('twice'));
    expect(await world.deliver(QUEUES.jobs.url, undefined, 3)).toEqual([]);
    expect(await world.deliver(QUEUES.jobs.url, ['twice-c2'], 3)).toEqual([]);
    const letters = world.deadLetters();
    expect(
      letters.map((m) => [
        parseEnvelope(m.Body ?? '').id,
        m.MessageAttributes?.['hookline.error.name']?.StringValue,
      ]),
    ).toEqual([
      ['twice-c3', 'FlowParentError'],
      ['twice-c2', 'FlowParentError'],
    ]);

    sqs.reset();
    installFakeQueue(sqs, EVENTS.deadLetterUrl, letters);
    const backend = testBackend();
    const result = await failedDelete(backend, stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['twice-c3'],
      yes: true,
      recordJobs: async (jobs, at) => {
        await Promise.all(jobs.map((job) => discardDeletedJob(world.records, job, at)));
      },
    });
    const at = new Date(backend.clock.now()).toISOString();
    expect(result).toMatchObject({
      deletedIds: ['twice-c3'],
      flowParents: ['twice-parent'],
      untoldFlowParents: ['twice-parent'],
    });
    renderFailedDelete(backend.output, result);
    expect(backend.output.lines.slice(-2)).toEqual([
      "flow parents of deleted jobs that ran and could not tell them (FlowParentError): one that counted every child is sent by the redrive of another child's dead letter with FlowParentError, if one is left; jobs show says whether, else cancel it",
      '  hookline jobs show twice-parent',
    ]);
    expect((await jobsShow(store(), 'twice-parent', local)).note).toBe(
      `all 3 children completed and this job was not sent yet: the consumer that counted the last one could not send it, and the dead letter of child twice-c3 that would send it (FlowParentError) was deleted by an operator at ${at} (hookline failed delete): only another of its children coming back sends it now, such as the redrive of its dead letter with FlowParentError (hookline failed list jobs --local); with none left, this job can never be sent: cancel it (hookline jobs cancel twice-parent --local)`,
    );
    expect(jobStateNote(await jobsShow(store(), 'twice-c3', local), local)).toBe(
      `completed, but its flow parent twice-parent may not know, or was not sent: its dead letter that would tell it or send it (FlowParentError) was deleted by an operator at ${at} (hookline failed delete); hookline jobs show twice-parent --local says whether anything can still send it, else cancel it (hookline jobs cancel twice-parent --local)`,
    );

    // The redrive of the other dead letter: its delivery comes again, finds every child counted, and sends the parent.
    expect(await world.deliver(QUEUES.jobs.url, ['twice-c2'])).toEqual([]);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['twice-parent']);
    expect((await world.records.read('twice-parent'))?.state).toBe('queued');
  });

  it('names the child that was never counted in the note of the parent that waits for it', async () => {
    const world = flowWorld(client, table, { countFails: 1 });
    await world.producer.sendFlow(threeParts('uncounted'));
    expect(await world.deliver(QUEUES.jobs.url, ['uncounted-c2'], 3)).toEqual([]);
    await world.deliver(QUEUES.jobs.url, ['uncounted-c1', 'uncounted-c3']);
    expect(world.deadLetters().map((m) => m.MessageAttributes?.['hookline.error.name']?.StringValue)).toEqual(
      ['FlowParentError'],
    );
    const { at } = await deleteDeadLetters(world);
    expect((await world.records.read('uncounted-c2'))?.state).toBe('completed');
    expect((await jobsShow(store(), 'uncounted-parent', local)).note).toBe(
      `waiting for its children: 2 of 3 completed, waiting for uncounted-c2; child uncounted-c2 completed and could not be counted here, and its dead letter that would count it (FlowParentError) was deleted by an operator at ${at} (hookline failed delete): this job can never be sent; cancel this job (hookline jobs cancel uncounted-parent --local)`,
    );
  });

  it('marks only a completed child of a flow, of the enqueue its dead letter carries', async () => {
    const world = flowWorld(client, table, { failFirstOf: 'only-c2' });
    await world.producer.sendFlow(threeParts('only'));
    await world.deliver(QUEUES.jobs.url);
    const at = new Date('2026-12-02T09:00:00Z');
    const completed = await world.records.read('only-c1');
    expect(await world.records.discardedUntoldChild('only-c1', at, 'another-enqueue')).toBe(false);
    // A dead-lettered child, and a parent (no child of a flow), are not completed children.
    expect(await world.records.discardedUntoldChild('only-c2', at, completed?.generation)).toBe(false);
    expect(await world.records.discardedUntoldChild('only-parent', at)).toBe(false);
    expect((await world.records.read('only-c2'))?.discardedAt).toBeUndefined();
    expect((await world.records.read('only-c1'))?.discardedAt).toBeUndefined();
    expect(await world.records.discardedUntoldChild('only-c1', at, completed?.generation)).toBe(true);
    expect((await world.records.read('only-c1'))?.discardedAt).toBe(at.toISOString());
  });
});

describe('a flow parent record', () => {
  it('counts a child once, and only its own children', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(threeParts('once'));
    expect(await world.records.childCompleted('once-parent', 'once-c1', 1)).toEqual([]);
    expect(await world.records.childCompleted('once-parent', 'once-c1', 1)).toEqual([]);
    expect(await world.records.childCompleted('once-parent', 'stranger', 1)).toEqual([]);
    expect((await world.records.read('once-parent'))?.children).toEqual({
      total: 3,
      completed: ['once-c1'],
      pending: ['once-c2', 'once-c3'],
    });
  });

  it('keeps the tenant a parent was sent with', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow({
      ...threeParts('tenant'),
      options: { id: 'tenant-parent', tenant: 'acme' },
    });
    expect((await world.records.read('tenant-parent'))?.tenant).toBe('acme');
  });

  it('counts the children that complete after their parent was cancelled, and never sends it', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(threeParts('cancel'));
    await world.producer.cancel('cancel-parent');
    for (const n of [1, 2, 3]) {
      expect(await world.records.childCompleted('cancel-parent', `cancel-c${n}`, n)).toEqual([]);
    }
    expect(await world.records.read('cancel-parent')).toMatchObject({
      state: 'cancelled',
      children: { total: 3, completed: ['cancel-c1', 'cancel-c2', 'cancel-c3'], pending: [] },
    });
    expect(world.sent.filter((m) => m.url === QUEUES.reports.url)).toEqual([]);
  });

  it("keeps a FIFO parent's message group and deduplication id for the send its last child makes", async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow({
      job: fifoReport,
      payload: { name: 'f' },
      options: { id: 'fifo-parent', group: 'customer-7' },
      children: [{ job: part, payload: { n: 1 }, options: { id: 'fifo-c1' } }],
    });
    expect(await world.records.childCompleted('fifo-parent', 'fifo-c1', 1)).toMatchObject([
      {
        queueUrl: QUEUES.orders.url,
        groupId: 'customer-7',
        deduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
  });

  it("hands the parent a result too large for its record from the child's own record", async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(threeParts('large'));
    const large = { text: 'x'.repeat(MAX_CHILD_RESULT_BYTES) };
    const generation = (await world.records.read('large-c1'))?.generation;
    await world.records.complete('large-c1', large, generation);
    await world.records.childCompleted('large-parent', 'large-c1', large);
    await world.records.childCompleted('large-parent', 'large-c2', { n: 2 });
    expect(await world.records.childOutcomes('large-parent')).toEqual({
      results: { 'large-c1': large, 'large-c2': { n: 2 } },
      failures: {},
    });
  });
});

describe('sendFlow refuses a flow that cannot run, before anything is written', () => {
  const world = () => flowWorld(client, table);
  it.each([
    [
      'a parent without children',
      { job: report, payload: { name: 'a' }, children: [] },
      /children must be a list of 1 to 50/,
    ],
    [
      'a delayed parent',
      {
        job: report,
        payload: { name: 'a' },
        options: { delay: { minutes: 1 } },
        children: [{ job: part, payload: { n: 1 } }],
      },
      /a parent takes no delay/,
    ],
    [
      'an id used twice',
      {
        job: report,
        payload: { name: 'a' },
        options: { id: 'twice' },
        children: [{ job: part, payload: { n: 1 }, options: { id: 'twice' } }],
      },
      /id "twice" is used twice in this flow/,
    ],
    [
      'an id that is not a string',
      {
        job: report,
        payload: { name: 'a' },
        children: [{ job: part, payload: { n: 1 }, options: { id: 7 as never } }],
      },
      /^sendFlow job 1 \(id 7 \(a number, not a string\)\): job flow\.part: id 7 \(a number, not a string\) must be/,
    ],
    [
      'a child whose payload does not fit its schema',
      {
        job: report,
        payload: { name: 'a' },
        options: { id: 'bad-parent' },
        children: [{ job: part, payload: { n: 'one' } }],
      },
      /sendFlow job 1 \(id .*\): payload of job flow.part is invalid/,
    ],
  ])('%s', async (_what, flow, error) => {
    const { producer, sent } = world();
    await expect(producer.sendFlow(flow as never)).rejects.toThrow(error);
    expect(sent).toEqual([]);
  });

  it('a parent too large for its record without a payload bucket', async () => {
    const { producer, records } = world();
    await expect(
      producer.sendFlow({
        job: report,
        payload: { name: 'x'.repeat(70_000) },
        options: { id: 'huge-parent' },
        children: [{ job: part, payload: { n: 1 } }],
      }),
    ).rejects.toThrow(/too large for its record, which keeps a flow parent's message/);
    expect(await records.read('huge-parent')).toBeUndefined();
  });
});
