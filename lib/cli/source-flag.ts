/**
 * The `--source <source>` flag of `trace` and `tail`, which select lines by the source they name. Its own light
 * module, as `--type`'s: the program checks the flag while parsing, before any command core (and the AWS SDK) loads.
 */
import { didYouMeanAside } from '../closest-name';
import { NAME_PATTERN, NAME_RULE } from '../config/name-rule';
import { UsageError } from './errors';

/**
 * The source, or a usage error when no source could have that name (the configuration's name rule): exit 2 with
 * nothing read. A well-formed name the configuration does not hold is taken: a source since removed still has
 * lines, its last events maybe still draining (`trace` and `tail` say so, {@link sourceNotConfiguredNote}).
 */
export function validSourceName(source: string): string {
  if (!NAME_PATTERN.test(source)) {
    throw new UsageError(
      `--source ${JSON.stringify(source)} is not a source name: source names are ${NAME_RULE}`,
    );
  }
  return source;
}

/**
 * The commander parser of `--source <source>`. A blank name passes: each command refuses it in its own words,
 * which say what leaving the flag out would select instead.
 */
export const sourceFlag = (value: string): string => (value.trim() === '' ? value : validSourceName(value));

/**
 * The one-line notice of a `--source` that is none of the `configured` sources (`configuredSources` in `trace.ts`):
 * what the command does with it anyway (`trace` and `tail` show its lines; `replay --to` replays its archived
 * events). Undefined for a configured one, or when the target does not list its sources (a local mode started by an
 * earlier version).
 */
export function sourceNotConfiguredNote(
  source: string,
  configured: readonly string[] | undefined,
  anyway = 'showing its lines anyway, as a source removed from it may still have events in the pipeline',
): string | undefined {
  if (configured === undefined || configured.includes(source)) return undefined;
  return `source "${source}" is not in the configuration (${configured.join(', ')})${didYouMeanAside(source, configured)}: ${anyway}`;
}
