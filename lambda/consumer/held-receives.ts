/**
 * The receives a consumer handed a job back without running it (not started before the deadline margin or without
 * a rate-limit slot, held behind a failing earlier job of its FIFO group, or refused because another execution held
 * its idempotency key): SQS counts every receive, so a job's attempt number is its receives less these. One
 * dedupe-table item per held message (`job.held#<message id>`), written only when a job is held, read only when a
 * job runs on a later receive: nothing for a job on its first receive, nor for a webhook.
 */
import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../shared/condition-failure';
import { DEDUPE_TABLE, HELD_RECEIVES_KEY_PREFIX } from '../shared/contracts';
import { MAX_SQS_RETENTION_SECONDS } from '../shared/envelope';

const { partitionKey: PK, ttlAttribute: TTL } = DEDUPE_TABLE;

/** A count outliving its message is never read again. */
const KEEP_SECONDS = MAX_SQS_RETENTION_SECONDS;

/** Held receives of the job messages of one queue. */
export interface HeldReceives {
  /**
   * Counts receive `receive` of the message as held (it did not run); resolves with how many receives before it were
   * held (`receive` less that is the attempt it would have been), undefined when this receive was counted already.
   */
  add(messageId: string, receive: number): Promise<number | undefined>;
  /** How many receives before `receive` the message was held. */
  count(messageId: string, receive: number): Promise<number>;
}

/** The item counting one message's held receives. */
const keyOf = (messageId: string) => ({ [PK]: { S: `${HELD_RECEIVES_KEY_PREFIX}${messageId}` } });

/**
 * On the dedupe table. Each count keeps the receive it last counted, which tells a message's receives apart from
 * an earlier life of the same message id (were SQS to count a message's receives anew under its id; a redrive
 * gives it a new one): a count from a receive at or after the one asking is that earlier life's, and starts over.
 */
export class DynamoHeldReceives implements HeldReceives {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async add(messageId: string, receive: number): Promise<number | undefined> {
    try {
      // Once per receive: a write retried after its answer was lost finds its own receive, and counts nothing.
      return await this.write(messageId, receive, 'add');
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    try {
      return await this.write(messageId, receive, 'restart');
    } catch (error) {
      // The count already holds this receive.
      if (!isConditionFailure(error)) throw error;
      return undefined;
    }
  }

  async count(messageId: string, receive: number): Promise<number> {
    const answer = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: keyOf(messageId), ConsistentRead: true }),
    );
    const held = Number(answer.Item?.held?.N ?? 0);
    const counted = Number(answer.Item?.receive?.N ?? 0);
    return counted < receive && Number.isInteger(held) && held > 0 ? held : 0;
  }

  /**
   * Counts `receive`: `add`s it to a count of earlier receives of this life, or `restart`s the count of a message
   * id received anew; either where no count is kept yet. Resolves with the receives of this life held before it,
   * which the count had before this write (none for a count started over), read from the write's own answer.
   */
  private async write(messageId: string, receive: number, how: 'add' | 'restart'): Promise<number> {
    const add = how === 'add';
    const answer = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: keyOf(messageId),
        ReturnValues: 'UPDATED_OLD',
        UpdateExpression: `SET #held = ${add ? 'if_not_exists(#held, :zero) + :one' : ':one'}, #receive = :receive, #expiresAt = :expiresAt`,
        ConditionExpression: `attribute_not_exists(#receive) OR #receive ${add ? '<' : '>'} :receive`,
        ExpressionAttributeNames: { '#held': 'held', '#receive': 'receive', '#expiresAt': TTL },
        ExpressionAttributeValues: {
          ':receive': { N: String(receive) },
          ':expiresAt': { N: String(Math.floor(this.now() / 1000) + KEEP_SECONDS) },
          ':one': { N: '1' },
          ...(add ? { ':zero': { N: '0' } } : {}),
        },
      }),
    );
    const before = Number(answer.Attributes?.held?.N ?? 0);
    return add && Number.isInteger(before) && before > 0 ? before : 0;
  }
}
