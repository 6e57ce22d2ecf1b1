import { describe, expect, it } from 'vitest';
import { handlerNotFoundMessage } from '../../../lib/local/handler-export';

const entry = 'lambda/consumers/events.ts';
const fn = async () => undefined;

describe('handlerNotFoundMessage', () => {
  it('finds nothing wrong with a function exported under the handler name', () => {
    expect(handlerNotFoundMessage(entry, 'handler', { handler: fn, other: 1 })).toBeUndefined();
  });

  it('names the entry file and the fix for each way the export can be missing', () => {
    expect(handlerNotFoundMessage(entry, 'handler', { default: fn })).toBe(
      'lambda/consumers/events.ts has a default export but no export named "handler", the one the runtime calls: export the function as "handler" (export const handler = defineConsumer({ ... })) instead of export default',
    );
    expect(handlerNotFoundMessage(entry, 'handler', { default: fn, helper: fn })).toContain(
      'has a default export (besides "helper") but no export named "handler"',
    );
    expect(handlerNotFoundMessage(entry, 'handler', { consumer: fn })).toBe(
      'lambda/consumers/events.ts has no export named "handler" (it exports "consumer"): export the function as "handler" (export const handler = defineConsumer({ ... })), or give the name of the function it exports as the consumer\'s handler in the configuration (queues.<queue>.consumer.handler)',
    );
    expect(handlerNotFoundMessage(entry, 'handler', {})).toBe(
      'lambda/consumers/events.ts exports nothing: export the function as "handler" (export const handler = defineConsumer({ ... }))',
    );
    expect(handlerNotFoundMessage(entry, 'handler', { handler: { handlers: {} } })).toMatch(
      /^lambda\/consumers\/events\.ts exports "handler" as an object, not a function: .*an object of handlers goes inside defineConsumer/,
    );
  });

  it('says what a handler export that is not a function is, null, an array or a value alike', () => {
    const kinds = [null, [fn], 0, ''].map((handler) => handlerNotFoundMessage(entry, 'handler', { handler }));
    expect(kinds.map((message) => message?.split(', not a function')[0])).toStrictEqual([
      'lambda/consumers/events.ts exports "handler" as null',
      'lambda/consumers/events.ts exports "handler" as an array',
      'lambda/consumers/events.ts exports "handler" as a number',
      'lambda/consumers/events.ts exports "handler" as a string',
    ]);
  });

  it('lists a few exports and counts the rest', () => {
    const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`e${i}`, i]));
    expect(handlerNotFoundMessage(entry, 'handler', many)).toContain(
      '(it exports "e0", "e1", "e2", "e3", "e4" and 3 more)',
    );
  });
});
