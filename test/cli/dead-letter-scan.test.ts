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
import { releaseHeld, VISIBILITY_CALLS_AT_ONCE } from '../../lib/cli/dead-letters';
import { failedSummary } from '../../lib/cli/failed';
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
