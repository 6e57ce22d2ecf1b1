import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { TenantLanes, tenantOf } from '../../../lib/local/tenant-lanes';

const message = (id: string, tenant?: string): Message => ({
  MessageId: id,
  ...(tenant
    ? { MessageAttributes: { 'hookline.tenant': { DataType: 'String', StringValue: tenant } } }
    : {}),
});
const ids = (messages: readonly Message[]) => messages.map((m) => m.MessageId);

describe('TenantLanes (local fair-queue scheduling)', () => {
  it('reads the tenant from the group id, else the hookline.tenant attribute, else the message alone', () => {
    expect(tenantOf({ MessageId: 'a', Attributes: { MessageGroupId: 'g' } })).toBe('g');
    expect(tenantOf(message('a', 't'))).toBe('t');
    expect(tenantOf(message('a'))).not.toBe(tenantOf(message('b')));
  });

  it('makes a message with other attributes but no tenant a tenant of its own', () => {
    const other = (id: string): Message => ({
      MessageId: id,
      MessageAttributes: { 'hookline.type': { DataType: 'String', StringValue: 'job' } },
    });
    expect(tenantOf(other('a'))).not.toBe(tenantOf(other('b')));
  });

  it('builds each batch one record per tenant in turn, so a quiet tenant is not behind a backlog', () => {
    const lanes = new TenantLanes();
    lanes.add(
      Array.from({ length: 100 }, (_, i) => message(`n${i}`, 'noisy')),
      0,
    );
    lanes.add([message('q0', 'quiet'), message('q1', 'quiet'), message('q2', 'quiet')], 0);
    expect(ids(lanes.take(4))).toEqual(['n0', 'q0', 'n1', 'q1']);
    expect(ids(lanes.take(4))).toEqual(['n2', 'q2', 'n3', 'n4']);
    expect(lanes.size).toBe(100 - 5);
  });

  it('starts each batch with the tenant served longest ago', () => {
    const lanes = new TenantLanes();
    lanes.add([message('a0', 'a'), message('a1', 'a'), message('b0', 'b'), message('b1', 'b')], 0);
    lanes.add([message('c0', 'c')], 0);
    expect(ids(lanes.take(2))).toEqual(['a0', 'b0']);
    expect(ids(lanes.take(2))).toEqual(['c0', 'a1']);
    expect(ids(lanes.take(2))).toEqual(['b1']);
    expect(lanes.size).toBe(0);
  });

  it('names the waiting messages whose visibility runs out, once per extension, and drains everything', () => {
    const lanes = new TenantLanes();
    lanes.add([message('early', 'a')], 1_000);
    lanes.add([message('late', 'b')], 50_000);
    expect(ids(lanes.expiring(10_000, 40_000))).toEqual(['early']);
    expect(ids(lanes.expiring(10_000, 40_000))).toEqual([]);
    expect(ids(lanes.drain()).sort()).toEqual(['early', 'late']);
    expect(lanes.size).toBe(0);
    expect(lanes.take(10)).toEqual([]);
    // Drained messages handed back and read again are new arrivals.
    lanes.add([message('early', 'a')], 0);
    expect(ids(lanes.take(10))).toEqual(['early']);
  });

  it('serves a message again when it comes back after its batch failed, though its tenant had run empty', () => {
    const lanes = new TenantLanes();
    lanes.add([{ ...message('m', 't'), ReceiptHandle: 'first' }], 0);
    expect(ids(lanes.take(10))).toEqual(['m']);
    lanes.add([{ ...message('m', 't'), ReceiptHandle: 'second' }], 0);
    expect(lanes.size).toBe(1);
    expect(lanes.take(10).map((m) => m.ReceiptHandle)).toEqual(['second']);
  });
});

describe('TenantLanes with a message received again', () => {
  it('forgets messages no longer held, by receipt handle, and the tenants left with none', () => {
    const lanes = new TenantLanes();
    const held = (id: string, tenant: string): Message => ({
      ...message(id, tenant),
      ReceiptHandle: `rh-${id}`,
    });
    lanes.add([held('a0', 'a'), held('a1', 'a'), held('b0', 'b')], 0);
    lanes.forget(new Set(['rh-a0', 'rh-b0']));
    expect(lanes.size).toBe(1);
    expect(ids(lanes.take(10))).toEqual(['a1']);
    // A message forgotten and then received again is a new arrival, not a replacement of a stale copy.
    lanes.add([held('b0', 'b')], 0);
    expect(lanes.size).toBe(1);
    expect(ids(lanes.take(10))).toEqual(['b0']);
  });

  it('a tenant whose messages were all forgotten comes back at the back of the turn, served once per round', () => {
    const lanes = new TenantLanes();
    const held = (id: string, tenant: string): Message => ({
      ...message(id, tenant),
      ReceiptHandle: `rh-${id}`,
    });
    lanes.add([held('b0', 'b'), held('a0', 'a'), held('a1', 'a'), held('a2', 'a')], 0);
    lanes.forget(new Set(['rh-b0']));
    lanes.add([held('b1', 'b'), held('b2', 'b')], 0);
    expect(ids(lanes.take(4))).toEqual(['a0', 'b1', 'a1', 'b2']);
  });

  it('keeps one copy of a message that stayed after a forget and was received again', () => {
    const lanes = new TenantLanes();
    lanes.add(
      [
        { ...message('a0', 'a'), ReceiptHandle: 'rh-a0' },
        { ...message('a1', 'a'), ReceiptHandle: 'old' },
      ],
      0,
    );
    lanes.forget(new Set(['rh-a0']));
    lanes.add([{ ...message('a1', 'a'), ReceiptHandle: 'new' }], 0);
    expect(lanes.size).toBe(1);
    expect(lanes.take(10).map((m) => m.ReceiptHandle)).toEqual(['new']);
  });

  it('keeps one copy, with the newest receipt handle', () => {
    const lanes = new TenantLanes();
    lanes.add([{ ...message('m', 't'), ReceiptHandle: 'old' }], 0);
    lanes.add([{ ...message('m', 't'), ReceiptHandle: 'new' }], 0);
    expect(lanes.size).toBe(1);
    expect(lanes.take(10).map((m) => m.ReceiptHandle)).toEqual(['new']);
  });
});
