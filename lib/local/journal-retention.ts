/**
 * How much of local mode's journal is kept: `HOOKLINE_JOURNAL_MAX`, a size the journal's two files (the live one and
 * the one rotated before it) hold at most together. Local mode reads it at start; a value it cannot read stops the
 * start with the variable, the value and the fix, listed with the other unusable settings.
 */

/** The variable that sets it. */
export const JOURNAL_MAX_VARIABLE = 'HOOKLINE_JOURNAL_MAX';

/**
 * 256 MB: about 450,000 webhooks of three lines each, weeks of a busy laptop's work, which `trace --local` reads
 * through in about a second of CPU; a data directory kept for months no longer fills the disk.
 *
 * @default
 */
export const DEFAULT_JOURNAL_MAX_BYTES = 256 * 1024 ** 2;

/** The least it takes: below it a rotation would come every few events, and `trace` would lose them within minutes. */
export const MIN_JOURNAL_MAX_BYTES = 16 * 1024;

/** The value that keeps every line, as before the cap. */
const UNLIMITED = 'unlimited';

const UNITS: Readonly<Record<string, number>> = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** The cap read: in bytes (undefined: never rotated), or why the value cannot be used. */
export type JournalMax = { readonly maxBytes: number | undefined } | { readonly problem: string };

/** The journal's cap from `HOOKLINE_JOURNAL_MAX`: a size with its unit (`256MB`, `1.5GB`, `512KB`) or `unlimited`. */
export function journalMaxFromEnv(env: Readonly<Record<string, string | undefined>>): JournalMax {
  const value = env[JOURNAL_MAX_VARIABLE];
  if (value === undefined || value.trim() === '') return { maxBytes: DEFAULT_JOURNAL_MAX_BYTES };
  if (value.trim().toLowerCase() === UNLIMITED) return { maxBytes: undefined };
  const size = /^\s*(\d+(?:\.\d+)?)\s*([KMG]B)\s*$/i.exec(value);
  const bytes = size
    ? Math.floor(Number(size[1]) * (UNITS[(size[2] as string).toUpperCase()] as number))
    : NaN;
  if (bytes >= MIN_JOURNAL_MAX_BYTES) return { maxBytes: bytes };
  const why = Number.isNaN(bytes) ? 'is not a size' : 'is below 16KB';
  return {
    problem: `${JOURNAL_MAX_VARIABLE}=${JSON.stringify(value)} ${why}: set it to a size with its unit from 16KB up (512KB, 100MB, 2GB), to ${UNLIMITED} to keep every line, or unset it for 256MB`,
  };
}
