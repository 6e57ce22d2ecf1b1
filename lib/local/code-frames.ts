/**
 * Where a function's own code threw, from an error's stack: local mode prints these frames under a cold start
 * that failed and under a record whose handler failed, so a person sees their file and line, not the loader's.
 */

/**
 * A frame of hookline's consumer runtime, which calls the handlers, or of its forwarding consumer, whose reason
 * (the destination's answer) says all its frames could: `lambda/consumer/` and `lambda/forward/` here, and
 * anything of the hookline package in a project that installed it.
 */
const CONSUMER_RUNTIME_FRAME =
  /[/\\]lambda[/\\](?:consumer|forward)[/\\]|[/\\]node_modules[/\\]hookline[/\\]/;

/** A frame of the AWS SDK (its clients and the Smithy core under them): code a handler awaits, never its own. */
const AWS_SDK_FRAME = /[/\\]node_modules[/\\]@(aws-sdk|smithy)[/\\]/;

/**
 * Shown instead of frames when every frame above the runtime is the AWS SDK's (an error AWS answered, such as
 * NoSuchBucket, whose stack is the SDK's response parsing): its frames would read as the user's code.
 */
export const AWS_SDK_ERROR_NOTE =
  'the AWS SDK threw this (what AWS answered is in the reason above); no frame of your code is in its stack';

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
 * The frames of a handler's code, above the consumer runtime that called it and without the AWS SDK's frames; none
 * when the runtime itself threw (an unknown type, a payload that fails its schema: the reason says it all), and
 * {@link AWS_SDK_ERROR_NOTE} alone when only the AWS SDK's frames are left (also an SDK call of the runtime's own,
 * such as a payload download).
 */
export function handlerFrames(stack: string | readonly string[] | undefined, limit = 5): string[] {
  const frames = codeFrames(stack, Number.POSITIVE_INFINITY);
  const runtime = frames.findIndex((frame) => CONSUMER_RUNTIME_FRAME.test(frame));
  const above = runtime === -1 ? frames : frames.slice(0, runtime);
  const own = above.filter((frame) => !AWS_SDK_FRAME.test(frame));
  if (own.length === 0 && above.length > 0) return [AWS_SDK_ERROR_NOTE];
  return own.slice(0, limit);
}
