/**
 * Where a function's own code threw, from an error's stack: local mode prints these frames under a cold start
 * that failed and under a record whose handler failed, so a person sees their file and line, not the loader's.
 */

/** A frame of hookline's consumer runtime (`lambda/consumer/`), which calls the handlers. */
const CONSUMER_RUNTIME_FRAME = /[/\\]lambda[/\\]consumer[/\\]/;

/**
 * The stack frames of the function's own code (source-mapped to its files), without Node's internals and local
 * mode's sandbox bootstrap. Takes the stack as V8 writes it, or split into lines (Powertools' dev mode logs it so).
 */
export function codeFrames(stack: string | readonly string[] | undefined, limit = 5): string[] {
  const lines = typeof stack === 'string' ? stack.split('\n') : (stack ?? []);
  return lines
    .filter(
      (line) => line.trimStart().startsWith('at ') && !/\(?node:|_runtime\/function-worker\.mjs/.test(line),
    )
    .slice(0, limit);
}

/**
 * The frames of a handler's code, above the consumer runtime that called it; none when the runtime itself threw
 * (an unknown type, a payload that fails its schema: the reason says it all).
 */
export function handlerFrames(stack: string | readonly string[] | undefined, limit = 5): string[] {
  const frames = codeFrames(stack, Number.POSITIVE_INFINITY);
  const runtime = frames.findIndex((frame) => CONSUMER_RUNTIME_FRAME.test(frame));
  return (runtime === -1 ? frames : frames.slice(0, runtime)).slice(0, limit);
}
