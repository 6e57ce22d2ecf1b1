/**
 * The rate limit's window counts in DynamoDB: one item per consumer and window in the consumer table (the one
 * idempotency uses: key `id`, TTL `expiration`), counted with one conditional update per start.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../shared/condition-failure';
import { IDEMPOTENCY_TABLE } from '../shared/contracts';
import type { RateLimitWindowStore } from './rate-limit';

/** A window store over `tableName`; a full window is a failed condition, which DynamoDB answers without a read. */
export function dynamoWindowStore(client: DynamoDBClient, tableName: string): RateLimitWindowStore {
  return {
    async take(key, limit, expiresAtSeconds) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: key } },
            UpdateExpression: 'ADD starts :one SET #expiration = if_not_exists(#expiration, :expiration)',
            ConditionExpression: 'attribute_not_exists(starts) OR starts < :limit',
            ExpressionAttributeNames: { '#expiration': IDEMPOTENCY_TABLE.ttlAttribute },
            ExpressionAttributeValues: {
              ':one': { N: '1' },
              ':limit': { N: String(limit) },
              ':expiration': { N: String(expiresAtSeconds) },
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
  };
}
