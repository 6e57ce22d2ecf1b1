/**
 * Flow children that are dead-lettered, sent with `failParentOnFailure` or `ignoreDependencyOnFailure`: through the
 * producer's `sendFlow` and the consumer runtime on job records in dynalite (see `./flow-world`).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { FlowJob, FlowJobOptions } from '../../../lambda/producer/flow';
import { JobRecords } from '../../../lambda/shared/job-record';
import {
  jobStateNote,
  jobsCancel,
  jobsList,
  jobsShow,
  renderJobCancel,
  renderJobShow,
} from '../../../lib/cli/jobs';
import { recordingOutput } from '../../cli/helpers';
import { useDedupeTable } from '../../helpers/local/dedupe-table';
import { flowWorld, part, QUEUES, report } from './flow-world';

const table = 'flow-failures-dedupe';
let client: DynamoDBClient;
useDedupeTable(table, (ready) => {
  client = ready;
});

/** A report waiting for parts 1 to 3 of `prefix`, part 2 sent with `options`. */
const flowWithPart2 = (prefix: string, options: FlowJobOptions): FlowJob => ({
  job: report,
  payload: { name: 'weekly' },
  options: { id: `${prefix}-parent` },
  children: [1, 2, 3].map((n) => ({
    job: part,
    payload: { n },
    options: { id: `${prefix}-c${n}`, ...(n === 2 ? options : {}) },
  })),
});

const BROKEN = 'PermanentError: part 2 is broken';
const show = (id: string) => jobsShow({ client, tableName: table }, id, {});

describe('a flow child sent with ignoreDependencyOnFailure', () => {
  it('counts as done but failed when dead-lettered: the parent runs once the rest completed, and reads why in ctx.failedChildren', async () => {
    const world = flowWorld(client, table, { breaks: { 'ign-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('ign', { ignoreDependencyOnFailure: true }));
    expect(await world.deliver(QUEUES.jobs.url, ['ign-c2'])).toEqual([]);
    expect(world.queue.deadLetters).toHaveLength(1);
    expect(await world.records.read('ign-parent')).toMatchObject({
      state: 'waiting-children',
      children: { completed: [], pending: ['ign-c1', 'ign-c3'], ignored: { 'ign-c2': BROKEN } },
    });
    expect(world.sentTo(QUEUES.reports.url)).toEqual([]);

    await world.deliver(QUEUES.jobs.url, ['ign-c1', 'ign-c3']);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['ign-parent']);
    await world.deliver(QUEUES.reports.url);
    expect(world.seen).toEqual([{ 'ign-c1': { n: 10 }, 'ign-c3': { n: 30 } }]);
    expect(world.failures).toEqual([{ 'ign-c2': BROKEN }]);
    expect((await world.records.read('ign-c2'))?.parentOnFailure).toBe('ignore');
  });

  it('sends the parent itself when it was the last child pending', async () => {
    const world = flowWorld(client, table, { breaks: { 'ign-last-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('ign-last', { ignoreDependencyOnFailure: true }));
    await world.deliver(QUEUES.jobs.url, ['ign-last-c1', 'ign-last-c3']);
    await world.deliver(QUEUES.jobs.url, ['ign-last-c2']);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['ign-last-parent']);
    expect((await world.records.read('ign-last-parent'))?.state).toBe('queued');
  });

  it('sends the parent exactly once when the runtime died after counting the child and before sending it', async () => {
    const world = flowWorld(client, table, { breaks: { 'ign-crash-c2': 'permanent' }, sendFails: 1 });
    await world.producer.sendFlow(flowWithPart2('ign-crash', { ignoreDependencyOnFailure: true }));
    await world.deliver(QUEUES.jobs.url, ['ign-crash-c1', 'ign-crash-c3']);
    // Counted, not sent: the record stays on its queue, and is not in the dead-letter queue yet.
    expect(await world.deliver(QUEUES.jobs.url, ['ign-crash-c2'])).toEqual(['ign-crash-c2']);
    expect(world.queue.deadLetters).toEqual([]);
    expect((await world.records.read('ign-crash-parent'))?.children?.ignored).toEqual({
      'ign-crash-c2': BROKEN,
    });

    // Its next delivery fails again, finds it counted, and sends the parent; a further copy sends nothing.
    expect(await world.deliver(QUEUES.jobs.url, ['ign-crash-c2'], 2)).toEqual([]);
    await world.deliver(QUEUES.jobs.url, ['ign-crash-c2'], 3);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['ign-crash-parent']);
  });

  it('reads a child whose redrive completed before the parent ran among ctx.children, not ctx.failedChildren', async () => {
    const world = flowWorld(client, table, { breaks: { 'ign-back-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('ign-back', { ignoreDependencyOnFailure: true }));
    await world.deliver(QUEUES.jobs.url, ['ign-back-c2']);
    world.breaks.delete('ign-back-c2');
    await world.deliver(QUEUES.jobs.url, ['ign-back-c2']);
    await world.deliver(QUEUES.jobs.url, ['ign-back-c1', 'ign-back-c3']);
    await world.deliver(QUEUES.reports.url);
    expect(world.seen).toEqual([
      { 'ign-back-c1': { n: 10 }, 'ign-back-c2': { n: 20 }, 'ign-back-c3': { n: 30 } },
    ]);
    expect(world.failures).toEqual([{}]);
  });

  it('is counted while another child has failed the parent, so the parent is sent once that one completes', async () => {
    const world = flowWorld(client, table, {
      breaks: { 'mixed-c1': 'permanent', 'mixed-c2': 'permanent' },
    });
    await world.producer.sendFlow({
      ...flowWithPart2('mixed', {}),
      children: [
        { job: part, payload: { n: 1 }, options: { id: 'mixed-c1', failParentOnFailure: true } },
        { job: part, payload: { n: 2 }, options: { id: 'mixed-c2', ignoreDependencyOnFailure: true } },
        { job: part, payload: { n: 3 }, options: { id: 'mixed-c3' } },
      ],
    });
    await world.deliver(QUEUES.jobs.url, ['mixed-c1']);
    await world.deliver(QUEUES.jobs.url, ['mixed-c2', 'mixed-c3']);
    expect(await world.records.read('mixed-parent')).toMatchObject({
      state: 'child-failed',
      children: {
        pending: [],
        failed: { 'mixed-c1': 'PermanentError: part 1 is broken' },
        ignored: { 'mixed-c2': BROKEN },
      },
    });
    world.breaks.delete('mixed-c1');
    await world.deliver(QUEUES.jobs.url, ['mixed-c1']);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['mixed-parent']);
    await world.deliver(QUEUES.reports.url);
    expect(world.failures).toEqual([{ 'mixed-c2': BROKEN }]);
  });

  it('gives a parent none of whose children failed an empty ctx.failedChildren', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(flowWithPart2('ign-none', { ignoreDependencyOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    await world.deliver(QUEUES.reports.url);
    expect(world.failures).toEqual([{}]);
    expect(Object.keys(world.seen[0] ?? {})).toHaveLength(3);
  });
});

describe('a flow child sent with failParentOnFailure', () => {
  it('is not failed on its parent by a copy dead-lettered while another execution held its key: that execution settles it', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(flowWithPart2('copy', { failParentOnFailure: true }));
    world.holdKey('copy-c2');
    // The queue's last receive (maxReceiveCount 3): the copy is dead-lettered, saying what it is.
    expect(await world.deliver(QUEUES.jobs.url, ['copy-c2'], 3)).toEqual([]);
    expect(world.queue.deadLetters[0]?.attributes['hookline.error.name']?.StringValue).toBe(
      'DuplicateCopyError',
    );
    expect(await world.records.read('copy-parent')).toMatchObject({
      state: 'waiting-children',
      children: { completed: [], pending: ['copy-c1', 'copy-c2', 'copy-c3'] },
    });
    expect((await world.records.read('copy-parent'))?.children?.failed).toBeUndefined();
    expect((await world.records.read('copy-c2'))?.state).toBe('queued');
  });

  it('fails its parent when dead-lettered: child-failed naming the child, never sent, and waitFor resolves with it', async () => {
    const world = flowWorld(client, table, { breaks: { 'fail-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('fail', { failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    const status = await world.producer.waitFor('fail-parent', { timeout: { seconds: 5 } });
    expect(status).toMatchObject({
      state: 'child-failed',
      reason: `FlowChildFailedError: child fail-c2 dead-lettered: ${BROKEN}`,
      children: { completed: ['fail-c1', 'fail-c3'], pending: [], failed: { 'fail-c2': BROKEN } },
    });
    expect(world.sentTo(QUEUES.reports.url)).toEqual([]);
    expect(await world.records.read('fail-c2')).toMatchObject({
      state: 'dead-lettered',
      parentOnFailure: 'fail',
    });
    expect((await show('fail-parent')).note).toBe(
      `child fail-c2 was dead-lettered (${BROKEN}); once its cause is fixed, hookline redrive jobs --id fail-c2 runs it again; sent with failParentOnFailure, it fails this job: it is not sent unless that child runs again and completes; or cancel this job (hookline jobs cancel fail-parent)`,
    );
  });

  it.each([
    ['its own attempts are spent', { attempts: 1 }, 1, /^AttemptsExhaustedError: /],
    ["its queue's last receive fails", {}, 3, /^Error: part 2 failed$/],
  ])('fails its parent when %s', async (_when, options, attempt, why) => {
    const prefix = `fail-${attempt}`;
    const world = flowWorld(client, table, { breaks: { [`${prefix}-c2`]: 'error' } });
    await world.producer.sendFlow(flowWithPart2(prefix, { ...options, failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url, [`${prefix}-c2`], attempt);
    const parent = await world.records.read(`${prefix}-parent`);
    expect(parent?.state).toBe('child-failed');
    expect(parent?.children?.failed?.[`${prefix}-c2`]).toMatch(why);
  });

  it('leaves the parent waiting while the child is only retried', async () => {
    const world = flowWorld(client, table, { breaks: { 'retry-c2': 'error' } });
    await world.producer.sendFlow(flowWithPart2('retry', { failParentOnFailure: true }));
    expect(await world.deliver(QUEUES.jobs.url, ['retry-c2'])).toEqual(['retry-c2']);
    expect((await world.records.read('retry-parent'))?.state).toBe('waiting-children');
  });

  it('sends the parent once a redrive of the child that failed it completes', async () => {
    const world = flowWorld(client, table, { breaks: { 'back-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('back', { failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    expect((await world.records.read('back-parent'))?.state).toBe('child-failed');

    world.breaks.delete('back-c2');
    // A redrive sends the same message back.
    await world.deliver(QUEUES.jobs.url, ['back-c2']);
    const parent = await world.records.read('back-parent');
    expect(parent).toMatchObject({ state: 'queued', children: { pending: [] } });
    expect(parent?.reason).toBeUndefined();
    expect(parent?.children?.failed).toBeUndefined();
    await world.deliver(QUEUES.reports.url);
    expect(world.seen).toEqual([{ 'back-c1': { n: 10 }, 'back-c2': { n: 20 }, 'back-c3': { n: 30 } }]);
  });

  it('stays child-failed, naming the other, while another child that fails it is still dead-lettered', async () => {
    const world = flowWorld(client, table, { breaks: { 'two-c1': 'permanent', 'two-c2': 'permanent' } });
    await world.producer.sendFlow({
      ...flowWithPart2('two', {}),
      children: [1, 2, 3].map((n) => ({
        job: part,
        payload: { n },
        options: { id: `two-c${n}`, failParentOnFailure: true },
      })),
    });
    await world.deliver(QUEUES.jobs.url, ['two-c1']);
    await world.deliver(QUEUES.jobs.url, ['two-c2']);
    expect(await world.records.read('two-parent')).toMatchObject({
      state: 'child-failed',
      reason: 'FlowChildFailedError: child two-c1 dead-lettered: PermanentError: part 1 is broken',
      children: { failed: { 'two-c1': 'PermanentError: part 1 is broken', 'two-c2': BROKEN } },
    });
    world.breaks.delete('two-c1');
    await world.deliver(QUEUES.jobs.url, ['two-c1', 'two-c3']);
    expect(await world.records.read('two-parent')).toMatchObject({
      state: 'child-failed',
      reason: `FlowChildFailedError: child two-c2 dead-lettered: ${BROKEN}`,
    });
    world.breaks.delete('two-c2');
    await world.deliver(QUEUES.jobs.url, ['two-c2']);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['two-parent']);
  });

  it('dead-letters the child only once its parent was told, and tells the parent once when the runtime died before telling it', async () => {
    const world = flowWorld(client, table, { breaks: { 'crash-c2': 'permanent' }, parentWriteFails: 1 });
    await world.producer.sendFlow(flowWithPart2('crash', { failParentOnFailure: true }));
    // The parent not told, the record stays on its queue and is not dead-lettered yet.
    expect(await world.deliver(QUEUES.jobs.url, ['crash-c2'])).toEqual(['crash-c2']);
    expect(world.queue.deadLetters).toEqual([]);
    expect((await world.records.read('crash-parent'))?.state).toBe('waiting-children');

    expect(await world.deliver(QUEUES.jobs.url, ['crash-c2'], 2)).toEqual([]);
    expect(world.queue.deadLetters).toHaveLength(1);
    const failedAt = (await world.records.read('crash-parent'))?.updatedAt;
    // A copy delivered again (its delete lost) finds the child counted: the parent is not written again.
    await world.deliver(QUEUES.jobs.url, ['crash-c2'], 3);
    expect(await world.records.read('crash-parent')).toMatchObject({
      state: 'child-failed',
      updatedAt: failedAt,
      children: { failed: { 'crash-c2': BROKEN } },
    });
  });

  it('leaves the parent waiting when the child completed and only telling the parent failed (FlowParentError)', async () => {
    const world = flowWorld(client, table, { countFails: 1 });
    await world.producer.sendFlow(flowWithPart2('told', { failParentOnFailure: true }));
    // Its last attempt: the handler completed, counting it on the parent failed, so it is dead-lettered for that.
    expect(await world.deliver(QUEUES.jobs.url, ['told-c2'], 3)).toEqual([]);
    expect(world.deadLetters().map((m) => m.MessageAttributes?.['hookline.error.name']?.StringValue)).toEqual(
      ['FlowParentError'],
    );
    const parent = await world.records.read('told-parent');
    expect(parent).toMatchObject({
      state: 'waiting-children',
      children: { pending: ['told-c1', 'told-c2', 'told-c3'] },
    });
    expect(parent?.children?.failed).toBeUndefined();
    expect(parent?.reason).toBeUndefined();
  });

  it.each([
    ['failParentOnFailure: false', 'no-fail', { failParentOnFailure: false }],
    ['ignoreDependencyOnFailure: false', 'no-ignore', { ignoreDependencyOnFailure: false }],
  ])(
    'takes %s as no option: the parent waits for the dead-lettered child',
    async (_name, prefix, options) => {
      const world = flowWorld(client, table, { breaks: { [`${prefix}-c2`]: 'permanent' } });
      await world.producer.sendFlow(flowWithPart2(prefix, options));
      await world.deliver(QUEUES.jobs.url);
      expect((await world.records.read(`${prefix}-c2`))?.parentOnFailure).toBeUndefined();
      expect(await world.records.read(`${prefix}-parent`)).toMatchObject({
        state: 'waiting-children',
        children: { pending: [`${prefix}-c2`] },
      });
      expect(world.sentTo(QUEUES.reports.url)).toEqual([]);
    },
  );

  it('can be cancelled by the operator while child-failed', async () => {
    const world = flowWorld(client, table, { breaks: { 'give-up-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('give-up', { failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    expect(await world.producer.cancel('give-up-parent')).toBe(true);
    world.breaks.delete('give-up-c2');
    await world.deliver(QUEUES.jobs.url, ['give-up-c2']);
    expect((await world.records.read('give-up-parent'))?.state).toBe('cancelled');
    expect(world.sentTo(QUEUES.reports.url)).toEqual([]);
  });
});

describe('nested flows with a child that fails', () => {
  /** top waits for mid (sent with `midOptions`), which waits for leaf (failParentOnFailure), and for side. */
  const nested = (prefix: string, midOptions: FlowJobOptions): FlowJob => ({
    job: report,
    payload: { name: 'top' },
    options: { id: `${prefix}-top` },
    children: [
      { job: part, payload: { n: 1 }, options: { id: `${prefix}-side` } },
      {
        job: report,
        payload: { name: 'mid' },
        options: { id: `${prefix}-mid`, ...midOptions },
        children: [
          { job: part, payload: { n: 2 }, options: { id: `${prefix}-leaf`, failParentOnFailure: true } },
        ],
      },
    ],
  });

  it('fails every parent up the flow that is itself a child with failParentOnFailure', async () => {
    const world = flowWorld(client, table, { breaks: { 'up-leaf': 'permanent' } });
    await world.producer.sendFlow(nested('up', { failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    expect(await world.records.read('up-mid')).toMatchObject({
      state: 'child-failed',
      reason: `FlowChildFailedError: child up-leaf dead-lettered: ${BROKEN}`,
    });
    expect(await world.producer.waitFor('up-top', { timeout: { seconds: 5 } })).toMatchObject({
      state: 'child-failed',
      reason: `FlowChildFailedError: child up-mid failed: FlowChildFailedError: child up-leaf dead-lettered: ${BROKEN}`,
    });

    // The leaf's redrive completes: mid waits again and is sent, top waits for it again, and the flow finishes.
    world.breaks.delete('up-leaf');
    await world.deliver(QUEUES.jobs.url, ['up-leaf']);
    expect((await world.records.read('up-top'))?.state).toBe('waiting-children');
    expect((await world.records.read('up-top'))?.children?.pending).toEqual(['up-mid']);
    await world.deliver(QUEUES.reports.url, ['up-mid']);
    await world.deliver(QUEUES.reports.url, ['up-top']);
    expect((await world.records.read('up-top'))?.state).toBe('completed');
  });

  it('fails a parent three levels up, each level a child with failParentOnFailure', async () => {
    const world = flowWorld(client, table, { breaks: { 'deep-leaf': 'permanent' } });
    const top = nested('deep', { failParentOnFailure: true });
    await world.producer.sendFlow({
      job: report,
      payload: { name: 'root' },
      options: { id: 'deep-root' },
      children: [{ ...top, options: { ...top.options, failParentOnFailure: true } }],
    });
    await world.deliver(QUEUES.jobs.url);
    expect(await world.records.read('deep-root')).toMatchObject({
      state: 'child-failed',
      reason: `FlowChildFailedError: child deep-top failed: FlowChildFailedError: child deep-mid failed: FlowChildFailedError: child deep-leaf dead-lettered: ${BROKEN}`,
    });
  });

  it('makes the top parent wait again for an ignored middle one that runs again once its failing child completed', async () => {
    const world = flowWorld(client, table, { breaks: { 'again-leaf': 'permanent' } });
    await world.producer.sendFlow(nested('again', { ignoreDependencyOnFailure: true }));
    await world.deliver(QUEUES.jobs.url, ['again-leaf']);
    expect((await world.records.read('again-top'))?.children?.ignored).toEqual({
      'again-mid': `FlowChildFailedError: child again-leaf dead-lettered: ${BROKEN}`,
    });

    world.breaks.delete('again-leaf');
    await world.deliver(QUEUES.jobs.url, ['again-leaf']);
    expect((await world.records.read('again-top'))?.children).toMatchObject({
      pending: ['again-mid', 'again-side'],
    });
    // The side child completing does not send the top one: it waits for the middle one, which runs now.
    await world.deliver(QUEUES.jobs.url, ['again-side']);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['again-mid']);
    await world.deliver(QUEUES.reports.url, ['again-mid']);
    await world.deliver(QUEUES.reports.url, ['again-top']);
    expect(world.failures).toEqual([{}, {}]);
    expect(Object.keys(world.seen[1] ?? {}).sort()).toEqual(['again-mid', 'again-side']);
  });

  it('runs the top parent with the failed middle one among ctx.failedChildren when that one ignores its failure', async () => {
    const world = flowWorld(client, table, { breaks: { 'ign-up-leaf': 'permanent' } });
    await world.producer.sendFlow(nested('ign-up', { ignoreDependencyOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    expect(world.sentTo(QUEUES.reports.url)).toEqual(['ign-up-top']);
    await world.deliver(QUEUES.reports.url, ['ign-up-top']);
    expect(world.failures).toEqual([
      {
        'ign-up-mid': `FlowChildFailedError: child ign-up-leaf dead-lettered: ${BROKEN}`,
      },
    ]);
  });
});

describe('what the operator reads of a flow whose child failed', () => {
  const store = () => ({ client, tableName: table });

  it('shows a child-failed parent with its children and lists it under --state child-failed', async () => {
    const world = flowWorld(client, table, { breaks: { 'view-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('view', { failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    const output = recordingOutput();
    renderJobShow(output, await show('view-parent'));
    expect(output.lines).toContain('state     child-failed');
    expect(output.lines).toContain('children  2 of 3 completed, 1 dead-lettered with failParentOnFailure');
    expect(output.lines).toContain(`reason    FlowChildFailedError: child view-c2 dead-lettered: ${BROKEN}`);
    const listed = await jobsList(store(), { state: 'child-failed', limit: 100 });
    expect(listed.jobs.map((j) => j.id)).toContain('view-parent');
    expect(listed.jobs.every((j) => j.state === 'child-failed')).toBe(true);
  });

  it('cancels a child-failed parent from the CLI, saying its children no longer send it', async () => {
    const world = flowWorld(client, table, { breaks: { 'cli-cancel-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('cli-cancel', { failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    const output = recordingOutput();
    renderJobCancel(output, await jobsCancel(store(), 'cli-cancel-parent', {}), 'local');
    expect(output.lines).toEqual([
      'cancelled job cli-cancel-parent (it was child-failed): its children still run, and their completion no longer sends it',
    ]);
  });

  it('points a failed top parent at the middle one, and that one at its dead-lettered child', async () => {
    const world = flowWorld(client, table, { breaks: { 'chain-leaf': 'permanent' } });
    await world.producer.sendFlow({
      job: report,
      payload: { name: 'top' },
      options: { id: 'chain-top' },
      children: [
        {
          job: report,
          payload: { name: 'mid' },
          options: { id: 'chain-mid', failParentOnFailure: true },
          children: [
            { job: part, payload: { n: 2 }, options: { id: 'chain-leaf', failParentOnFailure: true } },
          ],
        },
      ],
    });
    await world.deliver(QUEUES.jobs.url);
    expect((await show('chain-top')).note).toBe(
      'child chain-mid failed, its own children failing it (hookline jobs show chain-mid); sent with failParentOnFailure, it fails this job: it is not sent unless that child runs again and completes; or cancel this job (hookline jobs cancel chain-top)',
    );
    expect((await show('chain-mid')).note).toMatch(
      /^child chain-leaf was dead-lettered \(PermanentError: part 2 is broken\); once its cause is fixed, hookline redrive jobs --id chain-leaf runs it again;/,
    );
  });

  it('names a pending child that is itself child-failed under its waiting parent, pointing at its page', async () => {
    const world = flowWorld(client, table, { breaks: { 'under-leaf': 'permanent' } });
    await world.producer.sendFlow({
      job: report,
      payload: { name: 'top' },
      options: { id: 'under-top' },
      children: [
        {
          job: report,
          payload: { name: 'mid' },
          options: { id: 'under-mid' },
          children: [
            { job: part, payload: { n: 2 }, options: { id: 'under-leaf', failParentOnFailure: true } },
          ],
        },
      ],
    });
    await world.deliver(QUEUES.jobs.url);
    expect((await show('under-top')).note).toBe(
      `waiting for its children: 0 of 1 completed, waiting for under-mid; child under-mid is child-failed (FlowChildFailedError: child under-leaf dead-lettered: ${BROKEN}): hookline jobs show under-mid says how it goes on; or cancel this job (hookline jobs cancel under-top)`,
    );
  });

  it('says a parent whose failing child was deleted from its dead-letter queue can never be sent', async () => {
    const world = flowWorld(client, table, { breaks: { 'gone-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('gone', { failParentOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    const child = await world.records.read('gone-c2');
    await world.records.discarded('gone-c2', BROKEN, new Date('2026-12-02T09:00:00Z'), child?.generation);
    expect((await show('gone-parent')).note).toBe(
      `child gone-c2 was dead-lettered (${BROKEN}) and deleted from its dead-letter queue by an operator at 2026-12-02T09:00:00.000Z (hookline failed delete): it never runs again; sent with failParentOnFailure, it fails this job, which can never be sent now: cancel it (hookline jobs cancel gone-parent)`,
    );
  });

  it('says a parent can never be sent once one of its failing children was deleted, though another may still run', async () => {
    const world = flowWorld(client, table, { breaks: { 'half-c1': 'permanent', 'half-c2': 'permanent' } });
    await world.producer.sendFlow({
      ...flowWithPart2('half', {}),
      children: [1, 2, 3].map((n) => ({
        job: part,
        payload: { n },
        options: { id: `half-c${n}`, ...(n < 3 ? { failParentOnFailure: true } : {}) },
      })),
    });
    await world.deliver(QUEUES.jobs.url);
    const child = await world.records.read('half-c2');
    await world.records.discarded('half-c2', BROKEN, new Date('2026-12-02T09:00:00Z'), child?.generation);
    expect((await show('half-parent')).note).toMatch(
      /; sent with failParentOnFailure, they fail this job, which can never be sent now: cancel it \(hookline jobs cancel half-parent\)$/,
    );
  });

  it('does not tell the operator to cancel the parent of a deleted child its parent ignored', async () => {
    const world = flowWorld(client, table, { breaks: { 'let-go-c2': 'permanent' } });
    await world.producer.sendFlow(flowWithPart2('let-go', { ignoreDependencyOnFailure: true }));
    await world.deliver(QUEUES.jobs.url);
    const child = await world.records.read('let-go-c2');
    await world.records.discarded('let-go-c2', BROKEN, new Date('2026-12-02T09:00:00Z'), child?.generation);
    const note = jobStateNote(await show('let-go-c2'), {});
    expect(note).toMatch(/^deleted from its dead-letter queue by an operator/);
    expect(note).not.toMatch(/let-go-parent/);
  });
});

describe('a flow parent record counting a dead-lettered child', () => {
  /**
   * The records on a client that runs `before` once, just before the first UpdateItem whose condition contains
   * `marker`: another consumer's write landing between two of this one's.
   */
  const racing = (marker: string, before: () => Promise<unknown>) => {
    let raced = false;
    const raceClient = {
      async send(command: { input: { ConditionExpression?: string } }) {
        if (!raced && command.input.ConditionExpression?.includes(marker)) {
          raced = true;
          await before();
        }
        return client.send(command as never);
      },
    } as unknown as DynamoDBClient;
    return new JobRecords(raceClient, table);
  };
  const fail = (reason: string) => ({ reason, policy: 'fail' }) as const;
  const allFailing = (prefix: string): FlowJob => ({
    ...flowWithPart2(prefix, {}),
    children: [1, 2].map((n) => ({
      job: part,
      payload: { n },
      options: { id: `${prefix}-c${n}`, failParentOnFailure: true },
    })),
  });

  it('fails the parent when a redrive made it wait again between the two writes of a failing child', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(allFailing('race-wait'));
    await world.records.childFailed('race-wait-parent', 'race-wait-c1', fail('Error: one'));
    // The second child's first write is refused (already child-failed); before its count-only write, the first
    // child's redrive completes and the parent waits again, so that write is refused too.
    const records = racing(':cancelled, :childFailed', () =>
      world.records.childCompleted('race-wait-parent', 'race-wait-c1', 1),
    );
    await records.childFailed('race-wait-parent', 'race-wait-c2', fail('Error: two'));
    expect(await world.records.read('race-wait-parent')).toMatchObject({
      state: 'child-failed',
      reason: 'FlowChildFailedError: child race-wait-c2 dead-lettered: Error: two',
      children: { completed: ['race-wait-c1'], failed: { 'race-wait-c2': 'Error: two' } },
    });
  });

  it('names the other failing child when it failed the parent while the first one completed', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(allFailing('race-name'));
    await world.records.childFailed('race-name-parent', 'race-name-c1', fail('Error: one'));
    // The first child's redrive counts it completed; before the parent waits again, the second child fails it.
    const records = racing('attribute_not_exists(childrenFailed)', () =>
      world.records.childFailed('race-name-parent', 'race-name-c2', fail('Error: two')),
    );
    expect(await records.childCompleted('race-name-parent', 'race-name-c1', 1)).toEqual([]);
    expect(await world.records.read('race-name-parent')).toMatchObject({
      state: 'child-failed',
      reason: 'FlowChildFailedError: child race-name-c2 dead-lettered: Error: two',
    });
  });

  it('counts it once, only for its own children, and not once it completed', async () => {
    const world = flowWorld(client, table);
    await world.producer.sendFlow(flowWithPart2('count', { ignoreDependencyOnFailure: true }));
    const failure = { reason: 'Error: x', policy: 'ignore' } as const;
    expect(await world.records.childFailed('count-parent', 'count-c2', failure)).toBeUndefined();
    const once = await world.records.read('count-parent');
    expect(await world.records.childFailed('count-parent', 'count-c2', failure)).toBeUndefined();
    expect(await world.records.childFailed('count-parent', 'stranger', failure)).toBeUndefined();
    await world.records.childCompleted('count-parent', 'count-c1', 1);
    expect(await world.records.childFailed('count-parent', 'count-c1', failure)).toBeUndefined();
    expect((await world.records.read('count-parent'))?.children).toEqual({
      total: 3,
      completed: ['count-c1'],
      pending: ['count-c3'],
      ignored: { 'count-c2': 'Error: x' },
    });
    expect(once?.children?.ignored).toEqual({ 'count-c2': 'Error: x' });
  });
});

describe('sendFlow refuses a child failure option that cannot be meant, before anything is written', () => {
  it.each([
    [
      'both options on one child',
      flowWithPart2('both', { failParentOnFailure: true, ignoreDependencyOnFailure: true }),
      /^flow\.children\[1\] \(job flow\.part, id "both-c2"\): failParentOnFailure and ignoreDependencyOnFailure contradict each other/,
    ],
    [
      'an option on the top job',
      { ...flowWithPart2('top', {}), options: { id: 'top-parent', failParentOnFailure: true } },
      /^flow \(job flow\.report, id "top-parent"\): failParentOnFailure is a child's option, and the flow's top job has no parent/,
    ],
    [
      "BullMQ's removeDependencyOnFailure, which has no equivalent of its own",
      flowWithPart2('remove', { removeDependencyOnFailure: true } as FlowJobOptions),
      /option "removeDependencyOnFailure" is not one send takes .*: a flow child sent with ignoreDependencyOnFailure lets its parent run without it/,
    ],
    [
      'an option that is not a boolean',
      flowWithPart2('text', { ignoreDependencyOnFailure: 'yes' as never }),
      /ignoreDependencyOnFailure must be true or false, got "yes"/,
    ],
  ])('%s', async (_what, flow, error) => {
    const world = flowWorld(client, table);
    await expect(world.producer.sendFlow(flow)).rejects.toThrow(error);
    expect(world.sent).toEqual([]);
  });
});
