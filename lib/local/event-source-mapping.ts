/**
 * Emulates Lambda's SQS event source mapping: long-polls a queue, batches records (batch size and batching
 * window), invokes the consumer function with at most `concurrency` batches at once, and deletes only the records
 * that succeeded, following Lambda's `ReportBatchItemFailures` rules.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { LAMBDA_SYNC_REQUEST_MAX_BYTES } from '../../lambda/shared/request-limits';
import { markReadAheadHold, markUndeliveredHandBack } from './fauxqs-fixes';
import type { InvokeResult } from './function-runtime';
import { TenantLanes } from './tenant-lanes';

/** Lambda's record `attributes`: the system attributes it delivers, in its spelling. */
const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'MessageDeduplicationId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
] as const;

function lambdaMessageAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    result[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: [...(value.StringListValues ?? [])],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: (value.DataType ?? 'String') as SQSMessageAttributes[string]['dataType'],
    };
  }
  return result;
}

/** Turns an SQS `ReceiveMessage` message into the record Lambda hands to the function. */
export function toLambdaRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTES) {
    const value = message.Attributes?.[name];
    if (value !== undefined) attributes[name] = value;
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: attributes as unknown as SQSRecordAttributes,
    messageAttributes: lambdaMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** Bytes of a record in an event beyond those of its body and attributes' values (ids, ARN, handles, names). */
const RECORD_OVERHEAD_BYTES = 4_096;
/** `{"Records":[]}`. */
const EVENT_WRAPPER_BYTES = 14;

/**
 * How many of `records`, from the first, one invocation may carry: Lambda's event source mapping invokes a batch
 * once its event would reach the 6 MB invocation payload limit, whatever the batch size (always one record at
 * least: an SQS message is never larger). A batch far below the limit is not serialized to know it.
 */
export function recordsWithinInvokeLimit(
  records: readonly SQSRecord[],
  limitBytes = LAMBDA_SYNC_REQUEST_MAX_BYTES,
): number {
  // JSON writes a character of a body or value in at most 3 bytes (SQS refuses those that would take 6).
  let bound = EVENT_WRAPPER_BYTES;
  for (const r of records) bound += RECORD_OVERHEAD_BYTES + 3 * (r.body.length + attributesLength(r));
  if (bound <= limitBytes) return records.length;
  let size = EVENT_WRAPPER_BYTES;
  for (let i = 0; i < records.length; i += 1) {
    size += Buffer.byteLength(JSON.stringify(records[i])) + (i > 0 ? 1 : 0);
    if (size > limitBytes) return Math.max(1, i);
  }
  return records.length;
}

/** Characters of a record's message attribute names and values. */
function attributesLength(record: SQSRecord): number {
  let length = 0;
  for (const [name, value] of Object.entries(record.messageAttributes)) {
    length += name.length + (value.stringValue?.length ?? 0) + (value.binaryValue?.length ?? 0);
  }
  return length;
}

/** What to do with a batch after the invocation. */
export interface BatchDisposition {
  /** Records to delete from the queue. */
  readonly succeeded: readonly SQSRecord[];
  /** Records left for redelivery after their visibility timeout. */
  readonly failed: readonly SQSRecord[];
  /** True when the whole batch failed (function error, timeout, or an invalid failure report). */
  readonly wholeBatchFailed: boolean;
  /**
   * Why Lambda would refuse the function's response, when it returned normally but its `batchItemFailures` is not
   * a list of the batch's message ids: the whole batch comes back although the function named none of it (or not
   * all of it) as failed.
   */
  readonly invalidResponse?: string;
}

/**
 * Lambda's partial batch response rules: success for a null/empty response or an empty/null
 * `batchItemFailures`; whole-batch failure for a function error or any null, empty or unknown `itemIdentifier`.
 */
export function disposeBatch(records: readonly SQSRecord[], result: InvokeResult): BatchDisposition {
  const whole = { succeeded: [], failed: [...records], wholeBatchFailed: true };
  if (!result.ok) return whole;
  const value = result.value as { batchItemFailures?: unknown } | null | undefined;
  if (value === null || value === undefined || typeof value !== 'object') {
    return { succeeded: [...records], failed: [], wholeBatchFailed: false };
  }
  const failures = value.batchItemFailures;
  if (failures === null || failures === undefined)
    return { succeeded: [...records], failed: [], wholeBatchFailed: false };
  const refused = (why: string): BatchDisposition => ({
    ...whole,
    invalidResponse: `invalid batch response: ${why}, so Lambda fails the whole batch`,
  });
  if (!Array.isArray(failures)) return refused(`batchItemFailures is ${describeValue(failures)}, not a list`);
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !records.some((r) => r.messageId === id)) {
      return refused(
        failure === null || typeof failure !== 'object'
          ? `an entry of batchItemFailures is ${describeValue(failure)}, not { itemIdentifier }`
          : id === undefined
            ? 'an entry of batchItemFailures has no itemIdentifier'
            : `itemIdentifier ${describeValue(id)} is not the messageId of a record in the batch`,
      );
    }
    ids.add(id);
  }
  return {
    succeeded: records.filter((r) => !ids.has(r.messageId)),
    failed: records.filter((r) => ids.has(r.messageId)),
    wholeBatchFailed: false,
  };
}

/** A value a consumer returned, as a reason names it: short, on one line. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value; // a cycle or a BigInt: the type is all a reason needs
  }
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** An invocation of the mapping, reported after the records were deleted or left. */
export interface BatchReport {
  readonly consumer: string;
  readonly records: number;
  readonly disposition: BatchDisposition;
  readonly result: InvokeResult;
}

/** Options of {@link EventSourceMapping}. */
export interface EventSourceMappingOptions {
  /** Consumer (queue) name from the configuration. */
  readonly name: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly sqs: SQSClient;
  readonly invoke: (event: SQSEvent) => Promise<InvokeResult>;
  readonly batchSize: number;
  readonly maximumBatchingWindowMs: number;
  /** Batches in flight at once (Lambda's maximum concurrency of the mapping). */
  readonly concurrency: number;
  /** Long-poll wait, default 20 s (Lambda's pollers always long-poll). */
  readonly waitTimeSeconds?: number;
  readonly onBatch?: (report: BatchReport) => void;
  /** SQS errors other than shutdown; the poller backs off and continues. */
  readonly onPollError?: (error: unknown) => void;
  /** Start disabled (state `Disabled`). */
  readonly startDisabled?: boolean;
  /**
   * Emulate an SQS fair queue (the queue has tenants): read ahead into per-tenant lanes and build each batch
   * from the tenants in turn, so one tenant's backlog does not delay the others. Messages waiting their turn
   * have their visibility extended, so none is delivered twice while it waits.
   * @default - arrival order
   */
  readonly fairness?: { readonly visibilityTimeoutSeconds: number };
}

/** Most messages a fair mapping reads ahead of the function (SQS allows 120,000 in flight). */
export const FAIR_READ_AHEAD_LIMIT = 10_000;
/** Receives a fair mapping issues at once while reading ahead. */
export const FAIR_PARALLEL_RECEIVES = 4;

/** `Enabled` or `Disabled`, as `GetEventSourceMapping` reports it. */
export type MappingState = 'Enabled' | 'Disabled';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** One consumer's event source mapping. */
export class EventSourceMapping {
  private enabled: boolean;
  private readonly abort = new AbortController();
  private pollers: Promise<void>[] = [];
  private invoking = 0;
  /** Pollers currently parked because the mapping is disabled. */
  private parked = 0;
  private parkedWaiters: (() => void)[] = [];
  /** Batch slots that may run now: fewer than the pollers while a circuit breaker probes at low concurrency. */
  private slotLimit = Number.POSITIVE_INFINITY;

  constructor(private readonly options: EventSourceMappingOptions) {
    this.enabled = !options.startDisabled;
  }

  /** `Enabled` while polling, `Disabled` when paused. */
  get state(): MappingState {
    return this.enabled ? 'Enabled' : 'Disabled';
  }

  /** Batches it may run at once now: its concurrency, or the lower one it was last enabled with. */
  get concurrency(): number {
    return Math.min(Math.max(1, this.options.concurrency), this.slotLimit);
  }

  /** Batches being processed right now. */
  get inFlight(): number {
    return this.invoking;
  }

  /**
   * Fair mode: messages read ahead and waiting their turn in the tenant lanes. The emulator counts them in
   * flight (they were received), but SQS fair queues would still show them visible: nothing processes them yet.
   */
  get waiting(): number {
    return this.lanes.size;
  }

  /** Fair mode: the messages waiting in the tenant lanes, by tenant (SQS counts them visible, not in flight). */
  waitingByTenant(): Map<string, number> {
    return this.lanes.waitingByTenant();
  }

  /** Starts the pollers (fair mode: one reader filling the tenant lanes, and one dispatcher per batch slot). */
  start(): void {
    const slots = Math.max(1, this.options.concurrency);
    if (this.options.fairness) {
      this.pollers.push(this.readAhead(this.options.fairness.visibilityTimeoutSeconds));
      for (let i = 0; i < slots; i += 1) {
        this.pollers.push(this.dispatchFairly(i, this.options.fairness.visibilityTimeoutSeconds));
      }
      return;
    }
    for (let i = 0; i < slots; i += 1) this.pollers.push(this.poll(i));
  }

  /**
   * Stops handing records to the function, at once: from the moment this returns, no record reaches the
   * function. A long poll already waiting is not cut (an aborted receive could still take messages on the
   * server and hide them for a visibility timeout); whatever it or a batching window still brings in is made
   * visible again (`ChangeMessageVisibility` 0) instead of being invoked. Fair mode keeps holding what it read
   * ahead (visibility extended; handed back on stop, with the receive that read it taken back), so a pause
   * costs no receive. Batches already handed over finish. The promise resolves once every poller is parked.
   */
  disable(): Promise<void> {
    this.enabled = false;
    return this.whenParked();
  }

  /**
   * Resumes polling, with at most `maxConcurrency` batches at once (a circuit breaker's probe), or the mapping's
   * own concurrency when none is given.
   */
  enable(maxConcurrency?: number): void {
    this.slotLimit = maxConcurrency ?? Number.POSITIVE_INFINITY;
    this.enabled = true;
  }

  /** Whether the batch slot `slot` waits: the mapping is disabled, or runs at a lower concurrency now. */
  private idle(slot: number): boolean {
    return !this.enabled || slot >= this.slotLimit;
  }

  private whenParked(): Promise<void> {
    if (this.enabled || this.parked >= this.pollers.length) return Promise.resolve();
    return new Promise((resolve) => this.parkedWaiters.push(resolve));
  }

  /** Cuts the long polls (shutdown) and waits for the batches in flight to finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.pollers);
  }

  /** Whether {@link stop} was called: what fails after it is the stop's doing, not a problem to report. */
  get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  /** Waits while the mapping is disabled, counted as parked. */
  private async park(): Promise<void> {
    this.parked += 1;
    if (this.parked >= this.pollers.length) for (const wake of this.parkedWaiters.splice(0)) wake();
    await sleep(100, this.abort.signal);
    this.parked -= 1;
  }

  private async poll(slot: number): Promise<void> {
    while (!this.stopping) {
      if (this.idle(slot)) {
        await this.park();
        continue;
      }
      let messages: Message[];
      try {
        messages = await this.collectBatch();
      } catch (error) {
        if (this.stopping) continue;
        this.options.onPollError?.(error);
        await sleep(1_000, this.abort.signal);
        continue;
      }
      if (messages.length === 0) continue;
      if (!this.enabled) {
        // Paused while this batch was being received: it must not reach the function. Hand it back now rather
        // than after a visibility timeout, and without that receive: Lambda invokes what its poller received,
        // so on AWS a pause never costs a message a receive, and pausing while messages arrive must not bring
        // them closer to the DLQ.
        await this.changeVisibility(messages, 0, { undelivered: true });
        continue;
      }
      // Received messages are always handed to the function, even during shutdown: dropping them here would
      // only delay them by a visibility timeout.
      await this.process(messages);
    }
  }

  private readonly lanes = new TenantLanes();

  /**
   * Fair mode's reader: keeps the lanes filled (long-polling while they are empty, short polls while they hold
   * messages), extends the visibility of messages still waiting, also while paused, and hands everything back
   * on stop, taking back the receive that read it ahead.
   */
  private async readAhead(visibilitySeconds: number): Promise<void> {
    while (!this.stopping) {
      if (!this.enabled) {
        // A pause keeps what was read ahead: handing it back would cost each message a receive when it is read
        // again, and a few pauses would dead-letter a backlog the function never saw.
        await this.extendWaiting(visibilitySeconds);
        await this.park();
        continue;
      }
      await this.extendWaiting(visibilitySeconds);
      if (this.lanes.size >= FAIR_READ_AHEAD_LIMIT) {
        await sleep(100, this.abort.signal);
        continue;
      }
      const waiting = this.lanes.size > 0;
      let messages: Message[] = [];
      try {
        // Short polls side by side while the lanes hold messages, so the reader gets through a backlog to the
        // tenants behind it faster than the function drains it; one long poll when there is nothing to serve.
        const receives = waiting
          ? Array.from({ length: FAIR_PARALLEL_RECEIVES }, () => this.receive(10, 0))
          : [this.receive(10, this.options.waitTimeSeconds ?? 20)];
        const settled = await Promise.allSettled(receives);
        messages = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
        const failure = settled.find((r) => r.status === 'rejected');
        if (failure && messages.length === 0) throw failure.reason;
      } catch (error) {
        if (!this.stopping) this.options.onPollError?.(error);
        await sleep(waiting ? 100 : 1_000, this.abort.signal);
        continue;
      }
      this.lanes.add(messages, Date.now() + visibilitySeconds * 1000);
      if (messages.length === 0 && waiting) await sleep(100, this.abort.signal);
    }
    // Handed back unrun, without the receive that read them ahead: SQS counts only the receive that delivers,
    // so restarting local mode over a backlog does not bring it closer to the DLQ.
    await this.changeVisibility(this.lanes.drain(), 0, { undelivered: true });
  }

  /**
   * Messages past half their visibility timeout get a full timeout again (half: room for a slow loop). Those
   * no longer held (a purge deleted them) leave the lanes, so they are not counted as waiting.
   */
  private async extendWaiting(visibilitySeconds: number): Promise<void> {
    const now = Date.now();
    const expiring = this.lanes.expiring(
      now + (visibilitySeconds * 1000) / 2,
      now + visibilitySeconds * 1000,
    );
    const gone = await this.changeVisibility(expiring, visibilitySeconds, { readAhead: true });
    if (gone.size > 0) this.lanes.forget(gone);
  }

  /** Fair mode's batch slot: a batch drawn from the tenants in turn, after the batching window. */
  private async dispatchFairly(slot: number, visibilitySeconds: number): Promise<void> {
    const { batchSize, maximumBatchingWindowMs } = this.options;
    while (!this.stopping) {
      if (this.idle(slot)) {
        await this.park();
        continue;
      }
      if (this.lanes.size === 0) {
        await sleep(20, this.abort.signal);
        continue;
      }
      const until = Date.now() + maximumBatchingWindowMs;
      // A pause ends the wait: disable() must not wait out a window of up to 5 minutes.
      while (this.lanes.size < batchSize && Date.now() < until && !this.stopping && this.enabled)
        await sleep(20);
      if (!this.enabled) continue;
      const batch = await this.stillHeld(this.lanes.take(batchSize), visibilitySeconds);
      if (batch.length > 0) await this.process(batch);
    }
  }

  /**
   * The messages of a batch drawn from the lanes that are still ours, each held for a full visibility timeout
   * from now, as a fresh receive would be. A message read ahead may be gone by its turn: a purge of the queue
   * deletes in-flight messages too, and the function must not run them after the operator was told they were
   * deleted. When the emulator cannot be asked, the batch goes as it is.
   */
  private async stillHeld(batch: Message[], visibilitySeconds: number): Promise<Message[]> {
    const gone = await this.changeVisibility(batch, visibilitySeconds, { readAhead: true });
    return gone.size === 0 ? batch : batch.filter((m) => !gone.has(m.ReceiptHandle));
  }

  /**
   * Only a long poll is cut on stop (it may wait 20 s for nothing). A short poll answers at once, and cutting
   * it would lose what the emulator already took from the queue: hidden for a visibility timeout, with a
   * receive counted, though nothing ever ran it.
   */
  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    const response = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      waitSeconds > 0 ? { abortSignal: this.abort.signal } : {},
    );
    return response.Messages ?? [];
  }

  /** One batch: up to `batchSize` records, waiting at most the batching window once the first record is in. */
  private async collectBatch(): Promise<Message[]> {
    const { batchSize, maximumBatchingWindowMs } = this.options;
    const first = await this.receive(batchSize, this.options.waitTimeSeconds ?? 20);
    if (first.length === 0 || maximumBatchingWindowMs <= 0 || first.length >= batchSize) return first;
    const batch = [...first];
    const until = Date.now() + maximumBatchingWindowMs;
    while (batch.length < batchSize && !this.stopping && this.enabled) {
      const left = until - Date.now();
      if (left <= 0) break;
      const more = await this.receive(batchSize - batch.length, Math.min(20, Math.floor(left / 1000))).catch(
        () => [] as Message[],
      );
      batch.push(...more);
      if (more.length === 0 && left < 1000) await sleep(left, this.abort.signal);
    }
    return batch;
  }

  private async process(received: Message[]): Promise<void> {
    const { queueArn, region } = this.options;
    const all = received.map((m) => toLambdaRecord(m, queueArn, region));
    const fit = recordsWithinInvokeLimit(all);
    // Lambda's poller would have invoked before reading these: back without the receive, for the next batch.
    if (fit < all.length) await this.changeVisibility(received.slice(fit), 0, { undelivered: true });
    const records = fit < all.length ? all.slice(0, fit) : all;
    this.invoking += 1;
    try {
      const result = await this.options.invoke({ Records: records });
      const disposition = disposeBatch(records, result);
      await this.deleteRecords(disposition.succeeded);
      this.options.onBatch?.({ consumer: this.options.name, records: records.length, disposition, result });
    } finally {
      this.invoking -= 1;
    }
  }

  /**
   * Sets the visibility of held messages; returns the receipt handles the emulator refused, the messages no
   * longer held (deleted, or a purge took them). When the emulator cannot be asked, none is reported gone.
   * `undelivered` (with 0 seconds): the messages were only read ahead, and the emulator takes back that receive.
   * `readAhead`: a fair mapping holds what it read ahead, where SQS would hold nothing (it schedules fair queues on
   * the server), so SQS's 12-hour limit on a hold counts from this call, as from the receive it stands for.
   */
  private async changeVisibility(
    messages: readonly Message[],
    seconds: number,
    { undelivered = false, readAhead = false } = {},
  ): Promise<Set<string | undefined>> {
    const gone = new Set<string | undefined>();
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      try {
        const command = new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: chunk.map((m, n) => ({
            Id: String(n),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: seconds,
          })),
        });
        if (undelivered) markUndeliveredHandBack(command);
        if (readAhead) markReadAheadHold(command);
        const answer = await this.options.sqs.send(command);
        for (const failed of answer.Failed ?? []) gone.add(chunk[Number(failed.Id)]?.ReceiptHandle);
      } catch (error) {
        // Released ones come back after their visibility timeout instead; unextended ones may come twice.
        this.options.onPollError?.(error);
      }
    }
    return gone;
  }

  private async deleteRecords(records: readonly SQSRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      try {
        await this.options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: chunk.map((r, n) => ({ Id: String(n), ReceiptHandle: r.receiptHandle })),
          }),
        );
      } catch (error) {
        // Undeleted records come back after their visibility timeout, as with a failed delete in AWS.
        this.options.onPollError?.(error);
      }
    }
  }
}
