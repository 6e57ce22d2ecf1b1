/**
 * Powertools' `BatchProcessor` with a bound on parallelism.
 *
 * Its parallel mode starts every record at once (`Promise.all`), and its sequential mode runs one at a time.
 * This subclass runs `limit` workers that each take the next record until none is left: the same success and
 * failure bookkeeping and the same `batchItemFailures` (Powertools' `prepare`/`clean`/`response`), with no
 * per-record waiting promise (a semaphore around each record measured ~2 µs/record slower at batch size 100).
 */
import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';

type ProcessResult = Awaited<ReturnType<BatchProcessor['processRecord']>>;

/** SQS batch processor running at most `limit` records at a time. */
export class BoundedBatchProcessor extends BatchProcessor {
  readonly #limit: number;

  constructor(limit: number) {
    super(EventType.SQS);
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`parallelism must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  override async process(): Promise<ProcessResult[]> {
    const records = this.records;
    if (records.length <= this.#limit) return super.process();
    this.prepare();
    const results: ProcessResult[] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const index = next++;
        results[index] = await this.processRecord(records[index] as (typeof records)[number]);
      }
    };
    await Promise.all(Array.from({ length: this.#limit }, worker));
    this.clean();
    return results;
  }
}
