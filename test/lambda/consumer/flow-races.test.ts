/**
 * Flow children that end at the same moment: separate invocations of the consumer runtime (and records of one batch,
 * which run in parallel) counting on one parent's record in dynalite at once, through the producer's `sendFlow` (see
 * `./flow-world`). Whatever the interleaving, the parent is sent once and its counts are exact.
 */
import {
  type DynamoDBClient,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { FlowJob, FlowJobOptions } from '../../../lambda/producer/flow';
import { useDedupeTable } from '../../helpers/local/dedupe-table';
import { flowWorld, part, QUEUES, report } from './flow-world';

const table = 'flow-races-dedupe';
let client: DynamoDBClient;
useDedupeTable(table, (ready) => {
  client = ready;
});

/** How many flows each test runs at once: more interleavings of the same race in one run. */
const FLOWS = 8;

/** A report waiting for `children` parts of `prefix`, part 1 sent with `options`. */
const flow = (prefix: string, children: number, options: FlowJobOptions = {}): FlowJob => ({
  job: report,
  payload: { name: prefix },
  options: { id: `${prefix}-parent` },
  children: Array.from({ length: children }, (_, i) => ({
    job: part,
    payload: { n: i + 1 },
    options: { id: `${prefix}-c${i + 1}`, ...(i === 0 ? options : {}) },
  })),
});

/** A top report of `prefix` waiting for a side part and the middle flow `middle`, which fails it when it fails. */
const topOver = (prefix: string, middle: FlowJob): FlowJob => ({
  job: report,
  payload: { name: 'top' },
  options: { id: `${prefix}-top` },
  children: [
    { job: part, payload: { n: 9 }, options: { id: `${prefix}-side` } },
    { ...middle, options: { id: `${prefix}-mid`, failParentOnFailure: true } },
  ],
});

/** The first child of each flow's middle parent fails for good. */
const firstMiddleChildBroken = (flows: readonly string[]) =>
  Object.fromEntries(flows.map((prefix) => [`${prefix}-mid-c1`, 'permanent' as const]));

/** How long a consumer's send of a parent takes, as a call to SQS does: a race's other side reads meanwhile. */
const SEND_MS = 20;

const prefixes = (name: string) => Array.from({ length: FLOWS }, (_, i) => `${name}${i}`);

/** How many times each id was sent to `url`, by id. */
const sendsOf = (world: ReturnType<typeof flowWorld>, url: string) => {
  const counts: Record<string, number> = {};
  for (const id of world.sentTo(url)) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
};

/**
 * A world whose flows of `p` break for good at the leaf and at mid's other child, on a client that races the top
 * parent: just before the leaf's walk up stops counting mid ignored on top, mid's other child fails it again, and
 * just after that write the top's side child completes. `before` sees each request first; `raced` says the race ran.
 */
function raceOnTopWorld(p: string, before?: (input: UpdateItemCommandInput) => Promise<void>) {
  let raced = false;
  const raceOnTop = {
    send: async (command: { input: unknown }) => {
      const input = command.input as UpdateItemCommandInput;
      if (before) await before(input);
      const ungated =
        !raced &&
        input.Key?.pk?.S === `job#${p}-top` &&
        input.UpdateExpression?.startsWith('DELETE childrenFailed :child, childrenIgnored :child') === true;
      if (!ungated) return client.send(command as never);
      raced = true;
      expect(await world.deliver(QUEUES.jobs.url, [`${p}-other`])).toEqual([]);
      const answer = await client.send(command as never);
      expect(await world.deliver(QUEUES.jobs.url, [`${p}-side`])).toEqual([]);
      return answer;
    },
  } as unknown as DynamoDBClient;
  const world = flowWorld(raceOnTop, table, {
    breaks: { [`${p}-leaf`]: 'permanent', [`${p}-other`]: 'permanent' },
  });
  return { world, raced: () => raced };
}

describe('flow children ending at the same moment', () => {
  it('send their parent once, with every child counted, when each completes in its own invocation', async () => {
    const world = flowWorld(client, table, { sendLatencyMs: SEND_MS });
    const flows = prefixes('apart');
    for (const prefix of flows) await world.producer.sendFlow(flow(prefix, 5));
    // One invocation per child, all at once.
    await Promise.all(world.sentTo(QUEUES.jobs.url).map((id) => world.deliver(QUEUES.jobs.url, [id])));

    expect(sendsOf(world, QUEUES.reports.url)).toEqual(
      Object.fromEntries(flows.map((prefix) => [`${prefix}-parent`, 1])),
    );
    for (const prefix of flows) {
      expect(await world.records.read(`${prefix}-parent`)).toMatchObject({
        state: 'queued',
        children: { total: 5, completed: [1, 2, 3, 4, 5].map((n) => `${prefix}-c${n}`), pending: [] },
      });
    }
  });

  it('run their parent once without idempotency when the last child is delivered twice at once', async () => {
    const world = flowWorld(client, table, { sendLatencyMs: SEND_MS, idempotency: false });
    const flows = prefixes('twice');
    for (const prefix of flows) await world.producer.sendFlow(flow(prefix, 2));
    await Promise.all(flows.map((prefix) => world.deliver(QUEUES.jobs.url, [`${prefix}-c1`])));
    // SQS delivers a standard queue's message at least once: two copies of the last child, each in its own invocation.
    const copies = await Promise.all(
      flows.flatMap((prefix) => [1, 2].map(() => world.deliver(QUEUES.jobs.url, [`${prefix}-c2`]))),
    );
    await Promise.all(world.sentTo(QUEUES.reports.url).map((id) => world.deliver(QUEUES.reports.url, [id])));
    // The copy that found the other one sending comes back; delivered again once that one is done, it sends nothing.
    await Promise.all(copies.flat().map((id) => world.deliver(QUEUES.jobs.url, [id], 2)));

    expect(sendsOf(world, QUEUES.reports.url)).toEqual(
      Object.fromEntries(flows.map((prefix) => [`${prefix}-parent`, 1])),
    );
    for (const prefix of flows) {
      expect(world.runs.filter((id) => id === `${prefix}-parent`)).toHaveLength(1);
      expect((await world.records.read(`${prefix}-parent`))?.state).toBe('completed');
    }
  });

  it('run their parent once without idempotency when the runtime died between sending it and marking it sent, and the child came again', async () => {
    const flows = prefixes('resent');
    const world = flowWorld(client, table, {
      sendLatencyMs: SEND_MS,
      idempotency: false,
      sentMarkFails: FLOWS,
      invocationMs: 25_000,
    });
    for (const prefix of flows) await world.producer.sendFlow(flow(prefix, 3));
    const died = (
      await Promise.all(world.sentTo(QUEUES.jobs.url).map((id) => world.deliver(QUEUES.jobs.url, [id])))
    ).flat();
    expect(died).toHaveLength(FLOWS);
    // Delivered again while the invocation that sent the parent could still be running: whether it sent is not
    // known yet, so the child comes back again and sends nothing.
    expect(
      (await Promise.all(died.map((id) => world.deliver(QUEUES.jobs.url, [id], 2)))).flat(),
    ).toHaveLength(FLOWS);
    expect(sendsOf(world, QUEUES.reports.url)).toEqual(
      Object.fromEntries(flows.map((prefix) => [`${prefix}-parent`, 1])),
    );
    // Once that invocation is over, the next delivery sends the parent again: the first send is known replaced.
    world.elapse(30_000);
    expect((await Promise.all(died.map((id) => world.deliver(QUEUES.jobs.url, [id], 3)))).flat()).toEqual([]);
    // Both sends of each parent, each in its own invocation, at once: one runs it, the other is skipped.
    const parents = world.sent.filter((m) => m.url === QUEUES.reports.url);
    expect(parents).toHaveLength(2 * FLOWS);
    await Promise.all(parents.map((m) => world.deliverMessage(m)));

    for (const prefix of flows) {
      expect(world.runs.filter((id) => id === `${prefix}-parent`)).toHaveLength(1);
      expect(await world.records.read(`${prefix}-parent`)).toMatchObject({
        state: 'completed',
        children: { total: 3, pending: [] },
      });
    }
  });

  it('leave their parent child-failed and never sent when one dead-letters with failParentOnFailure while the rest complete', async () => {
    const flows = prefixes('failing');
    const world = flowWorld(client, table, {
      sendLatencyMs: SEND_MS,
      breaks: Object.fromEntries(flows.map((prefix) => [`${prefix}-c1`, 'permanent' as const])),
    });
    for (const prefix of flows) await world.producer.sendFlow(flow(prefix, 3, { failParentOnFailure: true }));
    await Promise.all(world.sentTo(QUEUES.jobs.url).map((id) => world.deliver(QUEUES.jobs.url, [id])));

    expect(world.sentTo(QUEUES.reports.url)).toEqual([]);
    for (const prefix of flows) {
      expect(await world.records.read(`${prefix}-parent`)).toMatchObject({
        state: 'child-failed',
        reason: `FlowChildFailedError: child ${prefix}-c1 dead-lettered: PermanentError: part 1 is broken`,
        children: {
          completed: [`${prefix}-c2`, `${prefix}-c3`],
          pending: [],
          failed: { [`${prefix}-c1`]: 'PermanentError: part 1 is broken' },
        },
      });
    }
  });

  it('send their parent once when the redrive of the child that failed it completes with the last pending one', async () => {
    const flows = prefixes('redriven');
    const world = flowWorld(client, table, {
      sendLatencyMs: SEND_MS,
      breaks: Object.fromEntries(flows.map((prefix) => [`${prefix}-c1`, 'permanent' as const])),
    });
    for (const prefix of flows) await world.producer.sendFlow(flow(prefix, 3, { failParentOnFailure: true }));
    await Promise.all(
      flows.map((prefix) => world.deliver(QUEUES.jobs.url, [`${prefix}-c1`, `${prefix}-c2`])),
    );
    for (const prefix of flows) world.breaks.delete(`${prefix}-c1`);

    // The redriven child and the last pending one, each in its own invocation, at once.
    await Promise.all(
      flows.flatMap((prefix) => [
        world.deliver(QUEUES.jobs.url, [`${prefix}-c1`]),
        world.deliver(QUEUES.jobs.url, [`${prefix}-c3`]),
      ]),
    );

    expect(sendsOf(world, QUEUES.reports.url)).toEqual(
      Object.fromEntries(flows.map((prefix) => [`${prefix}-parent`, 1])),
    );
    for (const prefix of flows) {
      const parent = await world.records.read(`${prefix}-parent`);
      expect(parent).toMatchObject({ state: 'queued', children: { total: 3, pending: [] } });
      expect(parent?.children?.failed).toBeUndefined();
    }
  });

  it('send a middle parent that failed its own parent once, and make that one wait again once, when the redrive of its failing child completes with its last pending one', async () => {
    const flows = prefixes('chain');
    const world = flowWorld(client, table, {
      sendLatencyMs: SEND_MS,
      breaks: firstMiddleChildBroken(flows),
    });
    for (const prefix of flows) {
      await world.producer.sendFlow(topOver(prefix, flow(`${prefix}-mid`, 3, { failParentOnFailure: true })));
    }
    await Promise.all(
      flows.map((prefix) =>
        world.deliver(QUEUES.jobs.url, [`${prefix}-side`, `${prefix}-mid-c1`, `${prefix}-mid-c2`]),
      ),
    );
    for (const prefix of flows) {
      expect((await world.records.read(`${prefix}-top`))?.state).toBe('child-failed');
      world.breaks.delete(`${prefix}-mid-c1`);
    }

    await Promise.all(
      flows.flatMap((prefix) => [
        world.deliver(QUEUES.jobs.url, [`${prefix}-mid-c1`]),
        world.deliver(QUEUES.jobs.url, [`${prefix}-mid-c3`]),
      ]),
    );

    expect(sendsOf(world, QUEUES.reports.url)).toEqual(
      Object.fromEntries(flows.map((prefix) => [`${prefix}-mid`, 1])),
    );
    for (const prefix of flows) {
      const top = await world.records.read(`${prefix}-top`);
      expect(top).toMatchObject({
        state: 'waiting-children',
        children: { completed: [`${prefix}-side`], pending: [`${prefix}-mid`] },
      });
      expect(top?.children?.failed).toBeUndefined();
      expect(top?.reason).toBeUndefined();
    }
  });

  it('leave the top parent child-failed when a redrive makes the middle one wait again while its other child fails it again', async () => {
    const flows = prefixes('refail');
    // The order of the race's writes, on the real client: the failing child fails the middle parent just after the
    // redriven one made it wait again, and tells the top parent before the redriven one's write there lands.
    const ordered = orderedWrites(client, (input, { key, whenAnswered }) => {
      const prefix = key.replace(/^job#/, '').replace(/-(top|mid)$/, '');
      if (key.endsWith('-mid') && input.UpdateExpression?.includes('ADD childrenFailed'))
        return whenAnswered(`${prefix}-mid`, (done) =>
          done.ConditionExpression?.includes('attribute_not_exists(childrenFailed)'),
        );
      if (key.endsWith('-top') && input.UpdateExpression?.startsWith('DELETE childrenFailed'))
        // After the failing child's count-only write there (refused: the top parent still counts the middle one
        // failed) and the read that follows it.
        return whenAnswered(`${prefix}-top`, (done) =>
          done.UpdateExpression?.startsWith(
            'ADD childrenFailed :child SET childFailures.#child = :reason, updatedAt',
          ),
        ).then(() => new Promise((resolve) => setTimeout(resolve, 30)));
      return undefined;
    });
    const world = flowWorld(ordered, table, {
      sendLatencyMs: SEND_MS,
      breaks: firstMiddleChildBroken(flows),
    });
    for (const prefix of flows) {
      await world.producer.sendFlow(
        topOver(prefix, {
          ...flow(`${prefix}-mid`, 2, { failParentOnFailure: true }),
          children: [1, 2].map((n) => ({
            job: part,
            payload: { n },
            options: { id: `${prefix}-mid-c${n}`, failParentOnFailure: true },
          })),
        }),
      );
    }
    await Promise.all(
      flows.map((prefix) => world.deliver(QUEUES.jobs.url, [`${prefix}-side`, `${prefix}-mid-c1`])),
    );
    for (const prefix of flows) {
      expect((await world.records.read(`${prefix}-top`))?.state).toBe('child-failed');
      world.breaks.delete(`${prefix}-mid-c1`);
      world.breaks.set(`${prefix}-mid-c2`, 'permanent');
    }

    // The redrive of the first child and the second child's failure, each in its own invocation, at once.
    await Promise.all(
      flows.flatMap((prefix) => [
        world.deliver(QUEUES.jobs.url, [`${prefix}-mid-c1`]),
        world.deliver(QUEUES.jobs.url, [`${prefix}-mid-c2`]),
      ]),
    );

    expect(world.sentTo(QUEUES.reports.url)).toEqual([]);
    for (const prefix of flows) {
      expect(await world.records.read(`${prefix}-mid`)).toMatchObject({
        state: 'child-failed',
        reason: `FlowChildFailedError: child ${prefix}-mid-c2 dead-lettered: PermanentError: part 2 is broken`,
      });
      expect(await world.records.read(`${prefix}-top`)).toMatchObject({
        state: 'child-failed',
        reason: `FlowChildFailedError: child ${prefix}-mid failed: FlowChildFailedError: child ${prefix}-mid-c2 dead-lettered: PermanentError: part 2 is broken`,
        children: { completed: [`${prefix}-side`], pending: [] },
      });
    }
  });

  it('send both parents a redriven child settles in a flow of four levels: its own, and the top one its walk up settled meanwhile', async () => {
    // top <- side, mid (ignoreDependencyOnFailure); mid <- other, low (each failParentOnFailure); low <- leaf (the same).
    const p = 'both';
    // The leaf's redrive walks up: low waits again, mid waits again, then the top stops counting mid ignored. Just
    // before that write, mid's other child fails it again (whose walk finds mid still ignored on top, and stops);
    // just after it, the top's side child completes (top still waits for mid). The walk then reads mid failed again,
    // counts it ignored on top once more, which settles top, while low, all its children done, is to be sent too.
    const { world, raced } = raceOnTopWorld(p);
    await sendFourLevelFlow(world, p);
    await world.deliver(QUEUES.jobs.url, [`${p}-leaf`]);
    expect((await world.records.read(`${p}-top`))?.state).toBe('waiting-children');

    // The leaf fixed and redriven.
    world.breaks.delete(`${p}-leaf`);
    expect(await world.deliver(QUEUES.jobs.url, [`${p}-leaf`])).toEqual([]);

    expect(raced()).toBe(true);
    expect((await world.records.read(`${p}-mid`))?.state).toBe('child-failed');
    expect(world.sentTo(QUEUES.reports.url).sort()).toEqual([`${p}-low`, `${p}-top`]);
    expect((await world.records.read(`${p}-top`))?.state).toBe('queued');
  });

  it("send the top parent its walk up settled even when another delivery holds the send of the child's own parent", async () => {
    // As above, but when the leaf's redrive comes to claim low's send, another delivery of the leaf holds it.
    const p = 'heldown';
    let heldOwn = false;
    const { world, raced } = raceOnTopWorld(p, async (input) => {
      if (
        !heldOwn &&
        input.Key?.pk?.S === `job#${p}-low` &&
        input.UpdateExpression?.startsWith('SET parentSendToken') === true
      ) {
        heldOwn = true;
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: `job#${p}-low` } },
            UpdateExpression: 'SET parentSendToken = :token, parentSendUntil = :until',
            ExpressionAttributeValues: {
              ':token': { S: 'another-delivery' },
              ':until': { S: new Date(Date.now() + 60_000).toISOString() },
            },
          }),
        );
      }
    });
    await sendFourLevelFlow(world, p);
    await world.deliver(QUEUES.jobs.url, [`${p}-leaf`]);
    world.breaks.delete(`${p}-leaf`);

    // The redrive comes back for low, whose send another delivery holds; the top one is sent meanwhile.
    expect(await world.deliver(QUEUES.jobs.url, [`${p}-leaf`])).toHaveLength(1);
    expect(raced() && heldOwn).toBe(true);
    expect(world.sentTo(QUEUES.reports.url)).toEqual([`${p}-top`]);
    expect((await world.records.read(`${p}-top`))?.state).toBe('queued');

    // That delivery's invocation ended without sending low: the claim lapsed, and the leaf's next delivery sends it.
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: `job#${p}-low` } },
        UpdateExpression: 'SET parentSendUntil = :past',
        ExpressionAttributeValues: { ':past': { S: new Date(0).toISOString() } },
      }),
    );
    expect(await world.deliver(QUEUES.jobs.url, [`${p}-leaf`], 2)).toEqual([]);
    expect(world.sentTo(QUEUES.reports.url).sort()).toEqual([`${p}-low`, `${p}-top`]);
  });

  it('send a nested flow up once: two middle parents whose last children complete at once send the top one once', async () => {
    const world = flowWorld(client, table, { sendLatencyMs: SEND_MS });
    const flows = prefixes('nested');
    for (const prefix of flows) {
      await world.producer.sendFlow({
        job: report,
        payload: { name: 'top' },
        options: { id: `${prefix}-top` },
        children: ['a', 'b'].map((side) => ({
          ...flow(`${prefix}-${side}`, 2),
          options: { id: `${prefix}-${side}-mid` },
        })),
      });
    }
    await Promise.all(world.sentTo(QUEUES.jobs.url).map((id) => world.deliver(QUEUES.jobs.url, [id])));
    // Both middle parents, each in its own invocation, at once.
    await Promise.all(world.sentTo(QUEUES.reports.url).map((id) => world.deliver(QUEUES.reports.url, [id])));

    const sends = sendsOf(world, QUEUES.reports.url);
    for (const prefix of flows) {
      expect([sends[`${prefix}-a-mid`], sends[`${prefix}-b-mid`], sends[`${prefix}-top`]]).toEqual([1, 1, 1]);
      expect(await world.records.read(`${prefix}-top`)).toMatchObject({
        state: 'queued',
        children: { completed: [`${prefix}-a-mid`, `${prefix}-b-mid`], pending: [] },
      });
    }
  });
});

/**
 * The client, with some of its `UpdateItem`s held until another write on a key was answered (at most a moment): a
 * race's interleaving made certain. `hold` names, for a write, the key and which answered write it waits for.
 */
function orderedWrites(
  client: DynamoDBClient,
  hold: (
    input: UpdateItemCommandInput,
    how: {
      key: string;
      whenAnswered: (
        key: string,
        answered: (input: UpdateItemCommandInput) => boolean | undefined,
      ) => Promise<void>;
    },
  ) => Promise<void> | undefined,
): DynamoDBClient {
  const answered: { key: string; input: UpdateItemCommandInput }[] = [];
  const waiters = new Set<() => void>();
  const whenAnswered = (key: string, test: (input: UpdateItemCommandInput) => boolean | undefined) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!answered.some((a) => a.key === key && test(a.input))) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
      setTimeout(() => {
        waiters.delete(check);
        resolve();
      }, 500);
    });
  const send = async (command: { input: unknown }) => {
    const input = command.input as UpdateItemCommandInput;
    const key = input.Key?.pk?.S ?? '';
    if (input.UpdateExpression !== undefined) await hold(input, { key, whenAnswered });
    try {
      return await client.send(command as never);
    } finally {
      if (input.UpdateExpression !== undefined) {
        answered.push({ key: key.replace(/^job#/, ''), input });
        for (const waiter of [...waiters]) waiter();
      }
    }
  };
  return { send } as unknown as DynamoDBClient;
}

/**
 * top <- side, mid (ignoreDependencyOnFailure); mid <- other, low (each failParentOnFailure); low <- leaf (the
 * same), with ids prefixed `p`.
 */
function sendFourLevelFlow(world: ReturnType<typeof flowWorld>, p: string) {
  const fail = { failParentOnFailure: true };
  return world.producer.sendFlow({
    job: report,
    payload: { name: 'top' },
    options: { id: `${p}-top` },
    children: [
      { job: part, payload: { n: 1 }, options: { id: `${p}-side` } },
      {
        job: report,
        payload: { name: 'mid' },
        options: { id: `${p}-mid`, ignoreDependencyOnFailure: true },
        children: [
          { job: part, payload: { n: 2 }, options: { id: `${p}-other`, ...fail } },
          {
            job: report,
            payload: { name: 'low' },
            options: { id: `${p}-low`, ...fail },
            children: [{ job: part, payload: { n: 3 }, options: { id: `${p}-leaf`, ...fail } }],
          },
        ],
      },
    ],
  });
}
