import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDedupeStore } from '../../../lambda/ingest/dedupe';
import {
  CONSUMER_OUTCOME_MESSAGE,
  DEDUPE_TABLE,
  INGEST_OUTCOME_MESSAGE,
  metricDimensionValue,
  PAYLOAD_KEY_PREFIX,
  payloadKey,
} from '../../../lambda/shared/contracts';
import { parseOutcomeLine } from '../../../lib/local/reporter';

describe('the shared runtime contracts', () => {
  it('the dedupe store writes its key and TTL under the names the table is defined with', async () => {
    const sent: Record<string, unknown>[] = [];
    const client = { send: async (command: { input: Record<string, unknown> }) => sent.push(command.input) };
    const store = createDynamoDedupeStore({
      client: client as unknown as DynamoDBClient,
      tableName: 't',
      ttlSeconds: 60,
      now: () => 1_000_000,
    });
    await store.claim('github#1');
    const put = sent[0] as { Item: Record<string, unknown>; ConditionExpression: string };
    expect(put.Item[DEDUPE_TABLE.partitionKey]).toEqual({ S: 'github#1' });
    expect(put.Item[DEDUPE_TABLE.ttlAttribute]).toEqual({ N: String(1000 + 60) });
    expect(put.ConditionExpression).toContain(`attribute_not_exists(${DEDUPE_TABLE.partitionKey})`);
    expect(put.ConditionExpression).toContain(`${DEDUPE_TABLE.ttlAttribute} < :now`);
  });

  it('claim-checked bodies are stored under the prefix the grants and lifecycle rule cover', () => {
    expect(payloadKey('github', 'abc', new Date(Date.UTC(2026, 0, 2)))).toBe(
      `${PAYLOAD_KEY_PREFIX}github/2026/01/02/abc`,
    );
  });

  it("local mode reports both functions' outcome lines", () => {
    for (const message of [INGEST_OUTCOME_MESSAGE, CONSUMER_OUTCOME_MESSAGE]) {
      const line = JSON.stringify({
        message,
        outcome: 'processed',
        id: 'e1',
        source: 'github',
        type: 'push',
      });
      expect(parseOutcomeLine(line)).toBeDefined();
    }
  });
});

describe('metricDimensionValue', () => {
  /** CloudWatch's rule for a dimension value: 1 to 1,024 ASCII characters, no control ones, not all blank. */
  const accepted = (value: string) => /^[\x20-\x7e]{1,1024}$/.test(value) && value.trim() !== '';

  it('keeps printable ASCII as it is', () => {
    expect(metricDimensionValue('github.pull_request.opened')).toBe('github.pull_request.opened');
  });

  it('percent-encodes every other character as its UTF-8 bytes, a lone surrogate as the replacement character', () => {
    expect(metricDimensionValue('x.注文')).toBe('x.%E6%B3%A8%E6%96%87');
    expect(metricDimensionValue('x.a\u0000b\u007f')).toBe('x.a%00b%7F');
    expect(metricDimensionValue('x.\ud800')).toBe('x.%EF%BF%BD');
  });

  it('gives a value CloudWatch accepts for a value too long or blank', () => {
    for (const value of ['x.'.padEnd(3_000, 'é'), 'a'.repeat(2_000), '', '   '])
      expect(accepted(metricDimensionValue(value)), value.slice(0, 20)).toBe(true);
  });
});
