/**
 * How `failed show` and the console's event page say that a debounced job's dead letter is of a send a later send
 * replaced (one of its own cycle, which its record names, or one that started a new cycle; both are skipped alike
 * once redriven). It lives beside the console's page (as `held-by-others.ts` does) because the console rebuilds its
 * bundle when a file in this folder changes; the CLI imports it from here.
 */
export const SUPERSEDED_LETTER =
  'a later send of this debounced job replaced it: a redrive of this letter is skipped as superseded, so its payload never runs (the job runs the send its record names)';
