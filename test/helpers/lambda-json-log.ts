/**
 * What CloudWatch keeps of a function's output under Lambda's JSON log format (`loggingFormat: JSON`, which every
 * hookline function has): the Node.js runtime replaces the global `console` methods with ones that wrap their first
 * argument, a string included, as the `message` of its own JSON object (aws-lambda-nodejs-runtime-interface-client,
 * src/logging/log-patch.ts and formatter.ts), while a line written to `process.stdout` is kept as it is. So a JSON
 * line passed to `console.log` reaches the log as an escaped string, its level `INFO` whatever it says inside.
 */
import { vi } from 'vitest';

/** A capture of the log events the function writes, as CloudWatch Logs reads them, until {@link restore}. */
export interface LambdaJsonLog {
  /** The events so far, each parsed as CloudWatch Logs reads a JSON event (its top-level fields). */
  events(): Record<string, unknown>[];
  restore(): void;
}

/** Starts capturing what the function writes as Lambda's Node.js runtime does under the JSON log format. */
export function captureLambdaJsonLog(): LambdaJsonLog {
  const events: string[] = [];
  const wrap =
    (level: string) =>
    (message: unknown, ...params: unknown[]): void => {
      // The runtime's formatJsonMessage: one argument is kept as the message as it is (a string stays a string).
      const wrapped = params.length === 0 ? message : [message, ...params].map(String).join(' ');
      events.push(
        JSON.stringify({ timestamp: new Date().toISOString(), level, requestId: 'req', message: wrapped }),
      );
    };
  const spies = [
    vi.spyOn(console, 'log').mockImplementation(wrap('INFO')),
    vi.spyOn(console, 'info').mockImplementation(wrap('INFO')),
    vi.spyOn(console, 'warn').mockImplementation(wrap('WARN')),
    vi.spyOn(console, 'error').mockImplementation(wrap('ERROR')),
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      events.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }),
  ];
  return {
    events: () =>
      events.flatMap((event) => {
        try {
          return [JSON.parse(event) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** The log events `fn` leaves under Lambda's JSON log format, each parsed as CloudWatch Logs reads it. */
export async function lambdaJsonLogEvents(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const log = captureLambdaJsonLog();
  try {
    await fn();
    return log.events();
  } finally {
    log.restore();
  }
}
