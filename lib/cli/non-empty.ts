/**
 * The option and argument check that an empty value is not a value. Its own module because both the program and
 * the project commands (`init`) use it, and the program imports those.
 */
import { InvalidArgumentError, Option } from 'commander';

/**
 * A flag given empty (`--stack "$STACK"` with the variable unset) is refused: taken for left out, it would act on
 * the default stack, region or configuration, a pipeline the operator did not name (or, for `init`, write into the
 * working directory, or depend on a hookline release the registry may not have).
 */
export const nonEmpty = (value: string): string => {
  if (value.trim() === '') throw new InvalidArgumentError('it is empty: give a value, or leave it out');
  return value;
};

/**
 * A flag naming the one target (`--stack`, `--region`, `--config`) given twice is refused: taking the last, as a
 * parser does, would act on one of two pipelines the operator named (`purge` on `--stack TeamA --stack TeamB`
 * from a wrapper that adds its own `--stack`), a guess the operator never sees.
 */
export const nonEmptyOnce = (value: string, previous: string | undefined): string => {
  if (previous !== undefined) {
    throw new InvalidArgumentError(`it is given twice ("${previous}", then "${value}"): give it once`);
  }
  return nonEmpty(value);
};

/**
 * `--config <path>`, the same on every command that loads the configuration: an empty path is refused rather than
 * read as the default configuration.
 */
export const configOption = (): Option =>
  new Option(
    '--config <path>',
    'configuration module (default: HOOKLINE_CONFIG, else hookline.config.ts)',
  ).argParser(nonEmptyOnce);
