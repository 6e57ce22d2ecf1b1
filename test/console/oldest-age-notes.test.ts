import { describe, expect, it } from 'vitest';
import { oldestAgeNotes, oldestAgeSentences } from '../../lib/console/ui/oldest-age-notes';

const IDLE = 'no message waiting or in flight';
const row = (queue: string, note?: string) => ({ queue, ...(note ? { oldestMessageAgeNote: note } : {}) });

describe("the overview's and status's note on a queue without an oldest age", () => {
  it('names the queues a note is about when another queue shows an age, so it never denies its messages', () => {
    const queues = [row('events'), row('orders', IDLE), row('audit', IDLE)];
    expect(oldestAgeNotes(queues)).toEqual([`oldest of orders, audit: ${IDLE}`]);
    expect(oldestAgeSentences(queues)).toEqual([`Oldest of orders, audit: ${IDLE}.`]);
  });

  it('names no queue when the note is about every queue', () => {
    expect(oldestAgeSentences([row('events', IDLE), row('orders', IDLE)])).toEqual([`Oldest: ${IDLE}.`]);
  });

  it('says each reason once, each with its own queues', () => {
    const unread = 'CloudWatch unreadable';
    expect(oldestAgeSentences([row('events', unread), row('orders', IDLE), row('audit', unread)])).toEqual([
      `Oldest of events, audit: ${unread}.`,
      `Oldest of orders: ${IDLE}.`,
    ]);
  });

  it('says nothing when every queue shows an age', () => {
    expect(oldestAgeSentences([row('events'), row('orders')])).toEqual([]);
  });
});
