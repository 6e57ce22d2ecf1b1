/**
 * An SQS client for local mode that injects SendMessageBatch failures, deterministically: some calls fail whole
 * before sending, some entries are refused (not sent), and some answers are lost after the messages were sent
 * (reported failed although SQS has them), which is the case that makes a retried send a duplicate.
 */
import { type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalState } from '../../../lambda/shared/local-state';

export class LocalFaultySqs {
  readonly client: SQSClient;
  readonly injected = { failedCalls: 0, refused: 0, lostAnswers: 0 };
  #calls = 0;
  /** Faults per entry id: each entry is hit at most twice, so the producer's retries get every one through. */
  readonly #faults = new Map<string, number>();

  #mayFault(id: string | undefined): boolean {
    const count = this.#faults.get(id ?? '') ?? 0;
    if (count >= 2) return false;
    this.#faults.set(id ?? '', count + 1);
    return true;
  }

  constructor(state: LocalState) {
    this.client = new SQSClient({
      region: state.region,
      endpoint: state.endpoints.sqs,
      credentials: { accessKeyId: 'hookline-local', secretAccessKey: 'hookline-local' },
    });
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        const call = ++this.#calls;
        const entries = (args.input as { Entries: SendMessageBatchRequestEntry[] }).Entries;
        if (call % 7 === 0 && entries.every((e) => (this.#faults.get(e.Id ?? '') ?? 0) < 2)) {
          for (const e of entries) this.#mayFault(e.Id);
          this.injected.failedCalls++;
          throw Object.assign(new Error('injected: connection reset'), { name: 'TimeoutError' });
        }
        const input = args.input as { Entries: SendMessageBatchRequestEntry[] };
        const refused =
          call % 3 === 0 && input.Entries.length > 2
            ? input.Entries.slice(0, 2).filter((e) => this.#mayFault(e.Id))
            : [];
        const sent = input.Entries.filter((e) => !refused.includes(e));
        this.injected.refused += refused.length;
        const result = await next({ ...args, input: { ...input, Entries: sent } as typeof args.input });
        const output = result.output as { Successful?: { Id?: string }[]; Failed?: object[] };
        const lost =
          call % 5 === 0 ? (output.Successful ?? []).slice(0, 1).filter((e) => this.#mayFault(e.Id)) : [];
        this.injected.lostAnswers += lost.length;
        output.Successful = (output.Successful ?? []).filter((s) => !lost.includes(s));
        output.Failed = [
          ...(output.Failed ?? []),
          ...[...refused, ...lost].map((e) => ({
            Id: e.Id,
            Code: 'InternalError',
            Message: 'injected',
            SenderFault: false,
          })),
        ];
        return result;
      },
      { step: 'initialize', name: 'injectSendFailures' },
    );
  }
}
