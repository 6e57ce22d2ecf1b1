/**
 * The receives a FIFO consumer handed a job back without running it (held behind a failing earlier job of its
 * group, or not started before the deadline margin or without a rate-limit slot): SQS counts every receive, so a
 * job's attempt number is its receives less these. One dedupe-table item per held message (`job.held#<message id>`),
 * written only when a job is held, read only when a job runs on a later receive: nothing on standard queues.
 */
import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DEDUPE_TABLE, HELD_RECEIVES_KEY_PREFIX } from '../shared/contracts';

const { partitionKey: PK, ttlAttribute: TTL } = DEDUPE_TABLE;

/** SQS keeps a message at most 14 days: a count outliving its message is never read again. */
const KEEP_SECONDS = 14 * 24 * 60 * 60;

/** Held receives of the job messages of one FIFO queue. */
export interface HeldReceives {
  /** Counts receive `receive` of the message as held (it did not run). */
  add(messageId: string, receive: number): Promise<void>;
  /** How many receives before `receive` the message was held. */
  count(messageId: string, receive: number): Promise<number>;
}

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/**
 * On the dedupe table. Each count keeps the receive it last counted, which tells a message's receives apart from
 * an earlier life of the same message id (SQS counts the receives of a message moved back from its dead-letter
 * queue anew): a count from a receive at or after the one asking is that earlier life's, and starts over.
 */
export class DynamoHeldReceives implements HeldReceives {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async add(messageId: string, receive: number): Promise<void> {
    const expiresAt = { N: String(Math.floor(this.now() / 1000) + KEEP_SECONDS) };
    try {
      // Once per receive: a write retried after its answer was lost finds its own receive, and counts nothing.
      await this.update(
        messageId,
        'if_not_exists(#held, :zero) + :one',
        '#receive < :receive',
        receive,
        expiresAt,
      );
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    try {
      await this.update(messageId, ':one', '#receive > :receive', receive, expiresAt);
    } catch (error) {
      // The count already holds this receive.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async count(messageId: string, receive: number): Promise<number> {
    const answer = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [PK]: { S: `${HELD_RECEIVES_KEY_PREFIX}${messageId}` } },
        ConsistentRead: true,
      }),
    );
    const held = Number(answer.Item?.held?.N ?? 0);
    const counted = Number(answer.Item?.receive?.N ?? 0);
    return counted < receive && Number.isInteger(held) && held > 0 ? held : 0;
  }

  private async update(
    messageId: string,
    held: string,
    condition: string,
    receive: number,
    expiresAt: { N: string },
  ): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [PK]: { S: `${HELD_RECEIVES_KEY_PREFIX}${messageId}` } },
        UpdateExpression: `SET #held = ${held}, #receive = :receive, #expiresAt = :expiresAt`,
        ConditionExpression: `attribute_not_exists(#receive) OR ${condition}`,
        ExpressionAttributeNames: { '#held': 'held', '#receive': 'receive', '#expiresAt': TTL },
        ExpressionAttributeValues: {
          ':receive': { N: String(receive) },
          ':expiresAt': expiresAt,
          ':one': { N: '1' },
          ...(held.includes(':zero') ? { ':zero': { N: '0' } } : {}),
        },
      }),
    );
  }
}
