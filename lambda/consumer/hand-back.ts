/**
 * One batch's records not started for want of time, made visible again before the batch returns
 * (ChangeMessageVisibilityBatch to 0) rather than after the queue's visibility timeout. A record goes once its held
 * receive (a job's) is counted (or its count failed: that receive is then among the job's attempts whenever it
 * comes back), ten a call, each call as soon as ten are ready, all within the batch's {@link SettleBudget}: a record
 * whose count or call did not fit the time left is left to the visibility timeout, as before the runtime handed
 * records back.
 */
import type { SQSRecord } from 'aws-lambda';
import { SQS_BATCH_MAX_ENTRIES } from '../shared/envelope';
import type { ConsumerQueueOperations, VisibilityRefusal } from './core';
import { OUT_OF_TIME, type SettleBudget } from './settle-budget';

/** What the hand-back came to: the records SQS refused, and how many were not handed back at once otherwise. */
export interface HandBackResult {
  readonly refused: VisibilityRefusal[];
  readonly notHandedBack: number;
}

export class HandBack {
  readonly #ready: SQSRecord[] = [];
  readonly #counting: Promise<void>[] = [];
  readonly #calls: Promise<VisibilityRefusal[]>[] = [];
  #notHandedBack = 0;

  constructor(
    private readonly sqs: Pick<ConsumerQueueOperations, 'changeVisibilities'>,
    private readonly budget: SettleBudget,
  ) {}

  /**
   * Hands `record` back once `counted` is true (its held receive's write ended): released while it is still being
   * written, a job would come back at once to read a count that leaves this receive among its attempts.
   */
  add(record: SQSRecord, counted: Promise<boolean>): void {
    this.#counting.push(
      counted.then((written) => {
        if (!written) {
          this.#notHandedBack++;
          return;
        }
        this.#ready.push(record);
        if (this.#ready.length === SQS_BATCH_MAX_ENTRIES) this.#change(this.#ready.splice(0));
      }),
    );
  }

  /**
   * Hands back now the records ready so far, rather than with the batch's last: for those whose counts all ended
   * while the batch still settles others.
   */
  flush(): void {
    if (this.#ready.length > 0) this.#change(this.#ready.splice(0));
  }

  /** Waits for the counts, hands back the records left over, and for every call made (each within the budget). */
  async finish(): Promise<HandBackResult> {
    await Promise.all(this.#counting);
    this.flush();
    const refused = (await Promise.all(this.#calls)).flat();
    return { refused, notHandedBack: this.#notHandedBack };
  }

  /**
   * One call for up to ten records, ahead of the held counts still waiting for the budget (these records are counted
   * already, and would otherwise wait behind counts of records the time left may never reach).
   */
  #change(records: SQSRecord[]): void {
    const call = this.budget
      .run(() => this.sqs.changeVisibilities(records, 0), { ahead: true })
      .then((refused) => {
        if (refused !== OUT_OF_TIME) return refused;
        this.#notHandedBack += records.length;
        return [];
      });
    this.#calls.push(call);
  }
}
