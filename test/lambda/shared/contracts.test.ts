import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDedupeStore } from '../../../lambda/ingest/dedupe';
import {
  CONSUMER_OUTCOME_MESSAGE,
  DEDUPE_TABLE,
  INGEST_OUTCOME_MESSAGE,
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
