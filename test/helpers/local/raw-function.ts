/**
 * A test function for local mode's function runtime: what it does is chosen by the event, so one bundle covers
 * echo, module state, sleep (timeouts), errors and crashes.
 */
let invocations = 0;
const loadedAt = Date.now();

interface TestEvent {
  readonly action: 'echo' | 'sleep' | 'spin' | 'throw' | 'exit' | 'uncaught' | 'log' | 'batch';
  readonly ms?: number;
  readonly lines?: readonly string[];
  readonly result?: unknown;
}

interface TestContext {
  readonly functionName: string;
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export const handler = async (event: TestEvent, context: TestContext): Promise<unknown> => {
  invocations += 1;
  switch (event.action) {
    case 'echo':
      return {
        invocations,
        loadedAt,
        env: { ...process.env },
        functionName: context.functionName,
        requestId: context.awsRequestId,
        remainingMs: context.getRemainingTimeInMillis(),
      };
    case 'sleep':
      await new Promise((r) => setTimeout(r, event.ms ?? 1_000));
      return { invocations };
    case 'spin': {
      // Busy on the CPU (blocking the sandbox's thread) for `ms`.
      const until = Date.now() + (event.ms ?? 100);
      while (Date.now() < until) {
        // spin
      }
      return { invocations };
    }
    case 'throw':
      throw new TypeError('boom from the handler');
    case 'exit':
      process.exit(3);
      return undefined;
    case 'uncaught':
      setTimeout(() => {
        throw new Error('uncaught in a timer');
      }, 0);
      await new Promise((r) => setTimeout(r, 1_000));
      return { invocations };
    case 'log':
      for (const line of event.lines ?? []) console.log(line);
      return { invocations };
    case 'batch':
      return event.result;
  }
};
