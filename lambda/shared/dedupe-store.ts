/**
 * Delivery-id deduplication on a DynamoDB table (the ingest's webhooks and the producer's job keys) (partition key `pk` = `<source>#<id>`, TTL attribute
 * `expiresAt` in epoch seconds; the names live in `DEDUPE_TABLE`, which the stack and local mode use too).
 *
 * Protocol (a lease, so our own failed enqueue never blocks the sender's retry):
 * 1. claim: conditional put of `status = pending` with a random token and a short lease. It succeeds when no
 *    record exists, the record's TTL has passed (DynamoDB deletes expired items lazily), or a pending lease
 *    has run out (the function that held it died) or was ended (3. below). Two concurrent deliveries cannot both
 *    succeed.
 *    A claim of an absent or expired record starts a new generation (a random id kept on the record); taking
 *    over a lease that ran out continues the same one, and keeps what a consumer already wrote on the record:
 *    that retry may be sending the same thing again. The producer puts the generation in a job's envelope, so
 *    consumers run a key claimed again after the window as new work, and a retry of one enqueue as the same.
 *    A record claimed before generations were kept has none, and a takeover keeps it so: the retry then sends
 *    what the first send did (no generation, so the same FIFO deduplication id, schedule name and consumer key).
 * 2. after every enqueue succeeded: `status = queued` (conditional on our token) -> later repeats are
 *    answered 202 with the same id and not enqueued again.
 * 3. when an enqueue failed: the lease is ended at once (conditional on our token), so the sender's retry
 *    takes the claim over and enqueues again, in the same generation: a failure that was not one (the send
 *    went through, its answer was lost) leaves a copy the retry repeats rather than a second job.
 *    The record is not deleted for that reason.
 * A repeat that finds a live `pending` record is told to retry later (503 + Retry-After).
 * A claim may name records it replaces as if their window had passed (`replaceIf`): a debounced job's record whose
 * job started or ended, so that a send then starts a new cycle, a new generation, instead of answering duplicate.
 *
 * A repeat costs one call on DynamoDB: the claim asks for the record it collided with
 * (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`, which DynamoDB returns on the
 * `ConditionalCheckFailedException` at no read cost), and the decision (duplicate, in progress, or a lease to
 * take over) is made from it (local mode's dynalite returns it too, once local mode corrects it). A store that
 * returns no record there costs up to three: the claim, the takeover attempt, then a consistent read.
 */

import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from './condition-failure';
import { DEDUPE_TABLE } from './contracts';

export type ClaimResult =
  | {
      readonly status: 'claimed';
      readonly token: string;
      /** Undefined only when a takeover continues a claim made before generations were kept. */
      readonly generation: string | undefined;
    }
  | { readonly status: 'duplicate' }
  | { readonly status: 'in_progress' };

/**
 * A condition on a record, an expression with its own placeholders, distinct from the write's: for a claim, the
 * record in its way that it replaces as if it had expired (a new generation); for a complete, what the record must
 * still hold for the claim to be completed.
 */
export interface ClaimCondition {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, AttributeValue>>;
}

/** Delivery-id deduplication; the protocol is described above. */
export interface DedupeStore {
  /**
   * `ttlSeconds` overrides the store's TTL for this key (a delayed job must stay claimed until it is due);
   * `replaceIf` names records the claim replaces as if they had expired (a debounced job's ended cycle).
   */
  claim(key: string, ttlSeconds?: number, replaceIf?: ClaimCondition): Promise<ClaimResult>;
  /**
   * `fields` are written with `status = queued` where the record has none yet (a consumer may have written them
   * first). Refused (a `ConditionalCheckFailedException`) when the claim is no longer this token's, or when
   * `onlyIf` does not hold for the record (a debounced send whose record a consumer made name another send); a
   * repeat of a complete that landed (its answer lost) resolves, whatever `onlyIf` finds by then.
   */
  complete(
    key: string,
    token: string,
    fields?: Readonly<Record<string, AttributeValue>>,
    onlyIf?: ClaimCondition,
  ): Promise<void>;
  /** Ends the lease at once: the next claim takes the key over (in the same generation) and sends again. */
  release(key: string, token: string): Promise<void>;
}

const { partitionKey: PK, ttlAttribute: TTL } = DEDUPE_TABLE;

/** Longer than the longest ingest timeout (29 s), so a live request never loses its claim. */
export const DEFAULT_LEASE_SECONDS = 30;

/** Options of {@link createDynamoDedupeStore}. */
export interface DynamoDedupeOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ttlSeconds: number;
  readonly leaseSeconds?: number;
  readonly now?: () => number;
}

/** One claim attempt: its new token and generation, and the lease and TTL it would write. */
interface Claim {
  readonly key: string;
  readonly now: number;
  readonly token: string;
  readonly generation: string;
  readonly leaseUntil: AttributeValue;
  readonly expiresAt: AttributeValue;
}

/**
 * What a conditional write came to: its value when the condition held, else the record it collided with when
 * DynamoDB returned it (`ALL_OLD` on the condition failure; undefined from a store that does not), and the refusal.
 */
type Conditional<T> =
  | { readonly held: true; readonly value: T }
  | {
      readonly held: false;
      readonly existing: Record<string, AttributeValue> | undefined;
      readonly error: unknown;
    };

async function conditionally<T>(attempt: Promise<T>): Promise<Conditional<T>> {
  try {
    return { held: true, value: await attempt };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const existing = (error as { Item?: Record<string, AttributeValue> }).Item;
    return {
      held: false,
      existing: existing && Object.keys(existing).length > 0 ? existing : undefined,
      error,
    };
  }
}

/** The record of `key` as it stands now (a consistent read). */
async function readRecord(
  client: DynamoDBClient,
  tableName: string,
  key: string,
): Promise<Record<string, AttributeValue> | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { [PK]: { S: key } }, ConsistentRead: true }),
  );
  return Item;
}

/** The takeover's condition, read from the record: a pending claim whose lease ran out within its window. */
function leaseRanOut(item: Record<string, AttributeValue>, now: number): boolean {
  const number = (name: string) => (item[name]?.N === undefined ? Number.NaN : Number(item[name]?.N));
  return item.status?.S === 'pending' && number('leaseUntil') < now && number(TTL) >= now;
}

/** What a repeat is told, from the record that stands in its way: done once queued, else being enqueued. */
function repeatOf(item: Record<string, AttributeValue> | undefined): ClaimResult {
  return item?.status?.S === 'queued' ? { status: 'duplicate' } : { status: 'in_progress' };
}

/**
 * Claims a key that has no record, whose window has passed, or whose record `replaceIf` holds for: a new
 * generation. Resolves with it.
 */
async function claimAfresh(
  client: DynamoDBClient,
  tableName: string,
  claim: Claim,
  replaceIf?: ClaimCondition,
): Promise<string> {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        [PK]: { S: claim.key },
        status: { S: 'pending' },
        token: { S: claim.token },
        generation: { S: claim.generation },
        leaseUntil: claim.leaseUntil,
        [TTL]: claim.expiresAt,
      },
      ConditionExpression: `attribute_not_exists(${PK}) OR #expiresAt < :now${replaceIf ? ` OR (${replaceIf.expression})` : ''}`,
      ExpressionAttributeNames: { '#expiresAt': TTL, ...replaceIf?.names },
      ExpressionAttributeValues: { ':now': { N: String(claim.now) }, ...replaceIf?.values },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  return claim.generation;
}

/**
 * Takes over a pending claim whose lease ran out within its window: the same generation, and the rest of the
 * record as it is. Resolves with the generation (none for a record claimed before generations were kept).
 */
async function takeOverLease(
  client: DynamoDBClient,
  tableName: string,
  claim: Claim,
): Promise<string | undefined> {
  const taken = await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { [PK]: { S: claim.key } },
      UpdateExpression: 'SET #token = :token, leaseUntil = :leaseUntil, #expiresAt = :expiresAt',
      ConditionExpression: '#status = :pending AND leaseUntil < :now AND #expiresAt >= :now',
      ExpressionAttributeNames: { '#status': 'status', '#token': 'token', '#expiresAt': TTL },
      ExpressionAttributeValues: {
        ':now': { N: String(claim.now) },
        ':pending': { S: 'pending' },
        ':token': { S: claim.token },
        ':leaseUntil': claim.leaseUntil,
        ':expiresAt': claim.expiresAt,
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  return taken.Attributes?.generation?.S;
}

/** Ends a lease we hold at once, keeping the record: the next claim takes it over in the same generation. */
async function endLease(
  client: DynamoDBClient,
  tableName: string,
  key: string,
  token: string,
): Promise<void> {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { [PK]: { S: key } },
        UpdateExpression: 'SET leaseUntil = :ended',
        ConditionExpression: '#token = :token AND #status = :pending',
        ExpressionAttributeNames: { '#token': 'token', '#status': 'status' },
        ExpressionAttributeValues: {
          ':token': { S: token },
          ':pending': { S: 'pending' },
          ':ended': { N: '0' },
        },
      }),
    );
  } catch (error) {
    // Someone else holds the record now (our lease ran out): nothing of ours to end.
    if (!isConditionFailure(error)) throw error;
  }
}

/** A {@link DedupeStore} on DynamoDB. */
export function createDynamoDedupeStore(options: DynamoDedupeOptions): DedupeStore {
  const { client, tableName, ttlSeconds } = options;
  const lease = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const nowSeconds = () => Math.floor((options.now ?? Date.now)() / 1000);

  return {
    async claim(key, ttlOverride, replaceIf): Promise<ClaimResult> {
      const now = nowSeconds();
      const claim: Claim = {
        key,
        now,
        token: randomUUID(),
        generation: randomUUID(),
        leaseUntil: { N: String(now + lease) },
        expiresAt: { N: String(now + (ttlOverride ?? ttlSeconds)) },
      };
      const claimed = (generation: string | undefined): ClaimResult => ({
        status: 'claimed',
        token: claim.token,
        generation,
      });
      const afresh = await conditionally(claimAfresh(client, tableName, claim, replaceIf));
      if (afresh.held) return claimed(afresh.value);
      // The record in the way, when DynamoDB returned it: a takeover is only worth a call when it can succeed.
      if (afresh.existing && !leaseRanOut(afresh.existing, now)) return repeatOf(afresh.existing);
      const taken = await conditionally(takeOverLease(client, tableName, claim));
      if (taken.held) return claimed(taken.value);
      if (taken.existing) return repeatOf(taken.existing);
      return repeatOf(await readRecord(client, tableName, key));
    },

    async complete(key, token, fields = {}, onlyIf) {
      const names = Object.keys(fields);
      // The record holds only this generation (a new claim replaces the whole item, a takeover continues the
      // same enqueue), so a field already present was written by a consumer of this generation's send (a job it
      // started or finished): it wins over what was sent.
      const sets = names.map((_, i) => `, #f${i} = if_not_exists(#f${i}, :f${i})`).join('');
      const done = await conditionally(
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { [PK]: { S: key } },
            UpdateExpression: `SET #status = :queued${sets} REMOVE leaseUntil`,
            ConditionExpression: `#token = :token${onlyIf ? ` AND (${onlyIf.expression})` : ''}`,
            ExpressionAttributeNames: {
              '#status': 'status',
              '#token': 'token',
              ...Object.fromEntries(names.map((name, i) => [`#f${i}`, name])),
              ...onlyIf?.names,
            },
            ExpressionAttributeValues: {
              ':queued': { S: 'queued' },
              ':token': { S: token },
              ...Object.fromEntries(names.map((name, i) => [`:f${i}`, fields[name] as AttributeValue])),
              ...onlyIf?.values,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      if (done.held) return;
      // A repeat of a complete that landed (its answer lost, the SDK or the caller retrying): done, though the
      // record may no longer hold what `onlyIf` asked (a later debounced send named since). Completed means
      // queued under this token: a takeover or a new claim writes a token of its own, and only a complete queues.
      const record = done.existing ?? (await readRecord(client, tableName, key));
      if (record?.token?.S === token && record.status?.S === 'queued') return;
      throw done.error;
    },

    async release(key, token) {
      await endLease(client, tableName, key, token);
    },
  };
}
