/**
 * The `--type <pattern>` flag of every command that selects by event type (`redrive`, `failed delete`, `replay`,
 * `tail`, `jobs list`, `jobs cancel`), and of the console's requests that take the same pattern. Its own light module:
 * the program checks the flag while parsing, before any command core (and the AWS SDK) loads.
 */
import { validateTypePattern } from '../../lambda/shared/type-pattern';
import { UsageError } from './errors';

/**
 * The pattern, or a usage error in one wording wherever it is given: a pattern the routes' dialect cannot read (an
 * empty segment, `***`) is a command the CLI cannot take, exit 2 with nothing read, as `--limit 0` is.
 */
export function validTypePattern(pattern: string): string {
  try {
    validateTypePattern(pattern);
  } catch (error) {
    throw new UsageError(
      `--type ${JSON.stringify(pattern)} is not a valid type pattern: ${(error as Error).message}`,
    );
  }
  return pattern;
}

/**
 * The commander parser of `--type <pattern>`. A blank pattern passes: each command refuses it in its own words,
 * which say what leaving the flag out would select instead.
 */
export const typePatternFlag = (value: string): string =>
  value.trim() === '' ? value : validTypePattern(value);
