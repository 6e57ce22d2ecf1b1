/**
 * The ingest's delivery-id dedupe store: the shared protocol in `../shared/dedupe-store`, which the job producer
 * uses too. Its own module so the handler loads it, and the DynamoDB client, with `import()` on the first claim
 * rather than at cold start.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { clientOptions } from '../shared/aws-clients';
import { createDynamoDedupeStore, type DedupeStore, type DynamoDedupeOptions } from '../shared/dedupe-store';

export {
  createDynamoDedupeStore,
  DEFAULT_LEASE_SECONDS,
  type DynamoDedupeOptions,
} from '../shared/dedupe-store';

/** The store on a DynamoDB client of its own, made from `options`. */
export function dynamoDedupeStore(
  settings: Pick<DynamoDedupeOptions, 'tableName' | 'ttlSeconds'>,
  options: ReturnType<typeof clientOptions>,
): DedupeStore {
  return createDynamoDedupeStore({ client: new DynamoDBClient(options), ...settings });
}
