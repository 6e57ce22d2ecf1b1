import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { DEDUPE_TABLE } from '../../../lambda/shared/contracts';
import { localDynamoClient } from '../../../lib/local/clients';
import { type Emulators, startEmulators } from '../../../lib/local/emulators';
import { ensureTable } from '../../../lib/local/topology';

/**
 * Starts the emulators before the enclosing tests and stops them after, with a dedupe table created by local
 * mode's own `ensureTable`; `onReady` receives the DynamoDB client (dynalite) the tests use.
 */
export function useDedupeTable(table: string, onReady: (client: DynamoDBClient) => void): void {
  let emulators: Emulators | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    emulators = await startEmulators();
    client = localDynamoClient(emulators);
    await ensureTable(client, table, DEDUPE_TABLE.partitionKey, DEDUPE_TABLE.ttlAttribute);
    onReady(client);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await emulators?.stop();
  });
}
