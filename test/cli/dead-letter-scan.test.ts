/**
 * A pass over a dead-letter queue that lasts longer than the hold it puts on what it read (a DLQ of tens of
 * thousands over a slow link, a paced redrive): SQS makes those messages visible again when the hold runs out, and
 * they come back among the ones the pass has not read.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/cli/backend';
import { type HeldMessage, HoldsByEnd } from '../../lib/cli/dead-letter-scan';
import { releaseHeld, VISIBILITY_CALLS_AT_ONCE } from '../../lib/cli/dead-letters';
import { failedSummary, findDeadLetters } from '../../lib/cli/failed';
import { redrive } from '../../lib/cli/redrive';
import { deadLetterMessage, EVENTS, stackTarget, testBackend } from './helpers';

const sqs = mockClient(SQSClient);

beforeEach(() => {
  sqs.reset();
});

/**
 * A dead-letter queue whose holds run out on a clock: a receive hides what it returns for its VisibilityTimeout
 * and gives each message a new receipt handle, as SQS does, and each receive takes `receiveMs` of that clock.
 * `renewals: false` refuses every hold but a release, so holds run out whatever the reader does.
 */
function timedQueue(count: number, options: { receiveMs: number; renewals?: boolean }) {
  let now = Date.parse('2026-11-25T03:00:00Z');
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
  const messages = Array.from({ length: count }, (_, n) => ({
    message: deadLetterMessage(n, { failure: { message: `customer cus_${n} not found` } }),
    visibleAt: 0,
    handle: '',
    receives: 0,
  }));
  sqs.on(GetQueueAttributesCommand).callsFake(() => ({
    Attributes: {
      ApproximateNumberOfMessages: String(messages.filter((m) => m.visibleAt <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(messages.filter((m) => m.visibleAt > now).length),
      ApproximateNumberOfMessagesDelayed: '0',
      RedrivePolicy: JSON.stringify({ maxReceiveCount: 5, deadLetterTargetArn: EVENTS.deadLetterArn }),
    },
  }));
  sqs
    .on(ReceiveMessageCommand)
    .callsFake((input: { MaxNumberOfMessages: number; VisibilityTimeout: number }) => {
      now += options.receiveMs;
      const out: Message[] = [];
      for (const m of messages) {
        if (out.length >= input.MaxNumberOfMessages) break;
        if (m.visibleAt > now) continue;
        m.receives++;
        m.handle = `${m.message.MessageId}#${m.receives}`;
        m.visibleAt = now + input.VisibilityTimeout * 1_000;
        out.push({ ...m.message, ReceiptHandle: m.handle });
      }
      return { Messages: out };
    });
  sqs
    .on(ChangeMessageVisibilityBatchCommand)
    .callsFake((input: { Entries: { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[] }) => {
      const failed: { Id: string; Code: string; SenderFault: boolean }[] = [];
      for (const e of input.Entries) {
        const m = messages.find((x) => x.handle === e.ReceiptHandle && x.visibleAt > now);
        if (!m || (options.renewals === false && e.VisibilityTimeout > 0)) {
          failed.push({ Id: e.Id, Code: 'MessageNotInflight', SenderFault: true });
          continue;
        }
        m.visibleAt = now + e.VisibilityTimeout * 1_000;
      }
      return { Successful: [], Failed: failed };
    });
  sqs
    .on(DeleteMessageBatchCommand)
    .callsFake((input: { Entries: { Id: string; ReceiptHandle: string }[] }) => {
      for (const e of input.Entries) {
        const index = messages.findIndex((x) => x.handle === e.ReceiptHandle);
        if (index >= 0) messages.splice(index, 1);
      }
      return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
  return { clock, messages };
}

describe('a pass longer than its hold', () => {
  it('holds what it read again before the hold runs out, so a summary counts every dead letter once', async () => {
    // 100 letters, 10 a receive, 40 s a receive: 400 s, past the 300 s hold of the first ones read.
    const { clock } = timedQueue(100, { receiveMs: 40_000 });

    const summary = await failedSummary(testBackend({ clock }), stackTarget(), { queue: 'events' });

    expect(summary.read).toBe(100);
    expect(summary.groups.reduce((sum, g) => sum + g.count, 0)).toBe(100);
    expect(summary.notReleased).toBe(0);
  });

  it('stops with the reason when a hold ran out anyway, rather than count part of the queue as the whole', async () => {
    const { clock } = timedQueue(100, { receiveMs: 40_000, renewals: false });

    await expect(failedSummary(testBackend({ clock }), stackTarget(), { queue: 'events' })).rejects.toThrow(
      /^stopped after reading 80 dead letters: the read took longer than the 300 s it holds each one, so those it read first are visible again and it can no longer tell what it has not read$/,
    );
  });

  it('keeps what a paced redrive --type skipped held to its end, so it reads each dead letter once', async () => {
    // --rate 0.05: one letter a receive, 20 s a send: 600 s for the 30 it moves, twice the hold of the first skipped.
    const { clock, messages } = timedQueue(60, { receiveMs: 5_000 });
    for (const [n, m] of messages.entries()) {
      if (n % 2 === 1) m.message = deadLetterMessage(n, { type: 'charge.failed' });
    }
    const sent: number[] = [];
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      sent.push(input.Entries.length);
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}` })), Failed: [] };
    });

    const result = await redrive(testBackend({ clock }), stackTarget(), {
      env: {},
      queue: 'events',
      type: 'charge.failed',
      rate: 0.05,
      recordJobs: async () => {},
    });

    expect(result).toMatchObject({ moved: 30, skipped: 30, failed: 0 });
    expect(result.stoppedBy).toBeUndefined();
    expect(sent.reduce((a, b) => a + b, 0)).toBe(30);
    // What it skipped never came back to it: a receive of only those would have ended it early.
    expect(messages.map((m) => m.receives)).toEqual(Array.from({ length: 30 }, () => 1));
  });
});

describe('handing back what a pass held', () => {
  /** Answers each visibility change after a few ms, recording how many were under way at once and for which handles. */
  function slowVisibilityChanges(failOnCall?: number) {
    const seen = { calls: 0, atOnce: 0, mostAtOnce: 0, handles: [] as string[] };
    sqs
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFake(async (input: { Entries: { Id: string; ReceiptHandle: string }[] }) => {
        const call = ++seen.calls;
        seen.mostAtOnce = Math.max(seen.mostAtOnce, ++seen.atOnce);
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.atOnce--;
        if (call === failOnCall) throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
        seen.handles.push(...input.Entries.map((e) => e.ReceiptHandle));
        return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
      });
    return seen;
  }
  const handles = Array.from({ length: 300 }, (_, n) => `rh-${n}`);

  it('makes thousands visible again several batches at a time, not one call after another, each handle once', async () => {
    const seen = slowVisibilityChanges();
    const notReleased = await releaseHeld(
      new SQSClient({ region: 'us-east-1' }),
      EVENTS.deadLetterUrl,
      handles,
    );
    expect(notReleased).toBe(0);
    expect(seen.calls).toBe(30);
    expect(seen.mostAtOnce).toBe(VISIBILITY_CALLS_AT_ONCE);
    expect([...seen.handles].sort()).toEqual([...handles].sort());
  });

  it('after a failed call starts no more, and counts as not released that call and those never made', async () => {
    const seen = slowVisibilityChanges(3);
    const notReleased = await releaseHeld(
      new SQSClient({ region: 'us-east-1' }),
      EVENTS.deadLetterUrl,
      handles,
    );
    // The calls under way when the third failed finish; no call starts after it.
    expect(seen.calls).toBeLessThan(30);
    expect(notReleased).toBe(handles.length - seen.handles.length);
    expect(new Set(seen.handles).size).toBe(seen.handles.length);
  });
});

describe('renewing the holds of a long pass', () => {
  /** A hold whose start counts how often it is looked at. */
  function countedHold(n: number, since: number, looks: Map<number, number>): HeldMessage {
    return {
      handle: `rh-${n}`,
      messageId: `m-${n}`,
      get since() {
        looks.set(n, (looks.get(n) ?? 0) + 1);
        return since;
      },
    };
  }

  it('looks at a hold only when it is due and at one more per renewal, not at every hold on each receive', () => {
    // 400 messages, 10 a receive, one receive a second, holds of 300 s: each renewal round looks at what is due.
    const holdMs = 300_000;
    const holds = new HoldsByEnd();
    const looks = new Map<number, number>();
    let added = 0;
    let rounds = 0;
    const renewedTimes = new Map<number, number>();
    for (let second = 0; second < 1_000; second++) {
      const now = second * 1_000;
      rounds++;
      for (const due of holds.takeDue(now, holdMs)) {
        const n = Number(due.handle.slice(3));
        renewedTimes.set(n, (renewedTimes.get(n) ?? 0) + 1);
        added++;
        holds.add(countedHold(n, now, looks));
      }
      for (let k = 0; k < 10 && second < 40; k++) {
        added++;
        holds.add(countedHold(second * 10 + k, now, looks));
      }
    }
    const totalLooks = [...looks.values()].reduce((a, b) => a + b, 0);
    expect(totalLooks).toBeLessThanOrEqual(added + rounds);
    // Renewed every half hold (150 s) over the 1,000 s: six times each, none skipped, none renewed more.
    expect(renewedTimes.size).toBe(400);
    expect(new Set(renewedTimes.values())).toEqual(new Set([6]));
  });

  it('puts back what SQS did not renew, still first, so it is renewed on the next receive', () => {
    const holds = new HoldsByEnd();
    const looks = new Map<number, number>();
    for (let n = 0; n < 5; n++) holds.add(countedHold(n, n * 1_000, looks));
    const due = holds.takeDue(153_000, 300_000);
    expect(due.map((h) => h.handle)).toEqual(['rh-0', 'rh-1', 'rh-2', 'rh-3']);
    holds.putBack(due.slice(1, 3));
    holds.add(countedHold(0, 153_000, looks));
    holds.add(countedHold(3, 153_000, looks));
    expect(holds.takeDue(154_000, 300_000).map((h) => h.handle)).toEqual(['rh-1', 'rh-2', 'rh-4']);
    // One past its whole hold is visible already: it is dropped, not renewed.
    expect(holds.takeDue(460_000, 300_000).map((h) => h.handle)).toEqual([]);
  });

  it('sends each message to be renewed once per half hold over a pass of a few hundred, counting each once', async () => {
    // 400 letters, 10 a receive, 20 s a receive: 800 s, so each hold is renewed (every 150 s) several times.
    const { clock, messages } = timedQueue(400, { receiveMs: 20_000 });
    const renewals = new Map<string, number>();
    const calls: number[] = [];

    const summary = await failedSummary(testBackend({ clock }), stackTarget(), { queue: 'events' });

    for (const call of sqs.commandCalls(ChangeMessageVisibilityBatchCommand)) {
      const entries = call.args[0].input.Entries ?? [];
      calls.push(entries.length);
      for (const e of entries) {
        if ((e.VisibilityTimeout ?? 0) === 0) continue;
        const id = (e.ReceiptHandle ?? '').split('#')[0] ?? '';
        renewals.set(id, (renewals.get(id) ?? 0) + 1);
      }
    }
    expect(summary.read).toBe(400);
    expect(summary.notReleased).toBe(0);
    expect(messages.every((m) => m.receives === 1)).toBe(true);
    // 840 s of receives (with the two empty ones) over a 150 s renewal period: at most 6 renewals of any hold.
    expect(Math.max(...renewals.values())).toBeLessThanOrEqual(6);
    expect(calls.every((n) => n <= 10)).toBe(true);
  });
});

describe('the bar of a hand-back', () => {
  it('follows a read of a few hundred letters with a bar of their hand-back, to its end', async () => {
    const { clock } = timedQueue(300, { receiveMs: 10 });
    const backend = testBackend({ clock });

    await failedSummary(backend, stackTarget(), { queue: 'events' });

    const label = 'handed back to the events DLQ';
    const handBack = backend.output.progressUpdates.filter(([shown]) => shown === label);
    expect(handBack.length).toBe(30);
    expect(handBack.at(-1)).toEqual([label, 300, 300]);
    expect(backend.output.progressEnded).toEqual(['read in the events DLQ', label]);
  });

  it('names the queue it hands back, as the read does, so passes over two dead-letter queues are told apart', async () => {
    const { clock } = timedQueue(300, { receiveMs: 10 });
    const backend = testBackend({ clock });

    await failedSummary(backend, stackTarget(), { queue: 'events' });
    await failedSummary(backend, stackTarget(), { queue: 'orders' });

    expect(backend.output.progressEnded).toEqual([
      'read in the events DLQ',
      'handed back to the events DLQ',
      'read in the orders DLQ',
      'handed back to the orders DLQ',
    ]);
  });

  it('tells a caller waiting on the read (the console) as the hand-back goes on, not only as letters are read', async () => {
    const { clock } = timedQueue(300, { receiveMs: 10 });
    let told = 0;

    await findDeadLetters(testBackend({ clock }), stackTarget(), 'events', () => false, {
      onProgress: () => told++,
    });

    expect(told).toBe(300 + 30);
  });
});
