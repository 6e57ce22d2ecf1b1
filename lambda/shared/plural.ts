/**
 * A count with its noun, singular for one: `1 message`, `3 messages`. One home for every counted noun a person
 * reads (the CLI, local mode, the console, configuration errors, the functions' errors), so none says
 * `1 messages` or hedges with `message(s)`; `nouns` is the plural where adding an s is wrong (`bodies`).
 */
export const plural = (count: number, noun: string, nouns = `${noun}s`): string =>
  `${count} ${count === 1 ? noun : nouns}`;
