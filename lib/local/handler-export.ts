/**
 * Why a function's module has no handler to call, as local mode says it when the sandbox starts. Lambda's own
 * answer (`Runtime.HandlerNotFound: index.handler is undefined or not exported`) names a bundle the developer never
 * wrote; this names the entry file they did, what it exports instead, and the fix.
 *
 * Imported by `function-worker.ts` (bundled on its own), so it imports nothing.
 */

/** The message for an entry whose export `handlerName` is missing or not a function; undefined when it is one. */
export function handlerNotFoundMessage(
  entry: string,
  handlerName: string,
  module: Readonly<Record<string, unknown>>,
): string | undefined {
  const candidate = module[handlerName];
  if (typeof candidate === 'function') return undefined;
  const fix = `export the function as "${handlerName}" (export const ${handlerName} = defineConsumer({ ... }))`;
  if (candidate !== undefined) {
    return `${entry} exports "${handlerName}" as ${kindOf(candidate)}, not a function: ${fix}; an object of handlers goes inside defineConsumer, which returns the function`;
  }
  const names = Object.keys(module);
  if (names.length === 0) return `${entry} exports nothing: ${fix}`;
  const others = names.filter((name) => name !== 'default');
  if (others.length < names.length) {
    const besides = others.length > 0 ? ` (besides ${exportList(others)})` : '';
    return `${entry} has a default export${besides} but no export named "${handlerName}", the one the runtime calls: ${fix} instead of export default`;
  }
  return `${entry} has no export named "${handlerName}" (it exports ${exportList(others)}): ${fix}, or give the name of the function it exports as the consumer's handler in the configuration (queues.<queue>.consumer.handler)`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

/** The first few export names, the rest counted; the configuration's handler check lists them alike. */
export function exportList(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((name) => `"${name}"`);
  return names.length > 5 ? `${shown.join(', ')} and ${names.length - 5} more` : shown.join(', ');
}
