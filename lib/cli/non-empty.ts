/**
 * The option and argument checks that an empty value, or the next flag, is not a value. Its own module because both
 * the program and the project commands (`init`) use it, and the program imports those.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';

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
export const nonEmptyOnce = (value: string, previous: string | undefined): string =>
  nonEmpty(givenOnce(value, previous));

/**
 * A flag that says what a command acts on or where it sends (`replay --to`, `--source`, its window) given twice is
 * refused, as the target flags are: taking the last, as a parser does, would act on one of two the operator named
 * (a wrapper's `--to` and the operator's), a guess the operator never sees. Its value is otherwise untouched, so
 * the command still refuses an empty one in its own words.
 */
export const givenOnce = (value: string, previous: unknown): string => {
  if (previous !== undefined) {
    throw new InvalidArgumentError(
      `it is given twice ("${String(previous)}", then "${value}"): give it once`,
    );
  }
  return value;
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

/**
 * An option's value that starts with `--` is the next flag, not a value: `--id "$ID" --local` with the variable
 * unset hands `--local` to `--id`, and the command, no longer told `--local`, would act on the default (deployed)
 * stack. A parser takes the word after a flag whatever it is, so the check is made here, for every option.
 */
export const notAFlag = (flag: string, value: string): string => {
  if (value.startsWith('--')) throw new InvalidArgumentError(`it looks like an option: give ${flag} a value`);
  return value;
};

/**
 * Applies {@link notAFlag} to every option of `command` and of its subcommands that takes a value, before the
 * option's own parser: one rule for all of them, including options added later, rather than a copy per option.
 */
export function refuseFlagsAsValues(command: Command): void {
  for (const option of command.options) {
    if (!option.required && !option.optional) continue;
    const parse = option.parseArg;
    const flag = option.long ?? option.flags;
    option.argParser((value: string, previous: unknown) => {
      notAFlag(flag, value);
      if (parse) return parse(value, previous);
      // As commander collects a variadic option's values when the option has no parser of its own.
      if (option.variadic)
        return previous === option.defaultValue || !Array.isArray(previous) ? [value] : [...previous, value];
      return value;
    });
  }
  for (const subcommand of command.commands) refuseFlagsAsValues(subcommand);
}

/**
 * Applies an empty-value check to every argument of `command` and of its subcommands, before the argument's own
 * parser: `status "$QUEUE"`, `jobs cancel "$ID"` with the variable unset are usage errors (exit 2) with nothing read,
 * where each command met the empty name later in its own way (an unknown queue, a job looked up in AWS). One rule for
 * every argument, including those added later, as {@link refuseFlagsAsValues} is for options.
 */
export function refuseEmptyArguments(command: Command): void {
  for (const argument of command.registeredArguments) {
    const parse = argument.parseArg;
    argument.argParser((value: string, previous: unknown) => {
      // A required argument cannot be left out, so its error does not offer it; an optional one says as nonEmpty.
      if (argument.required && value.trim() === '')
        throw new InvalidArgumentError('it is empty: give a value');
      nonEmpty(value);
      if (parse) return parse(value, previous);
      // As commander collects a variadic argument's values when the argument has no parser of its own.
      if (argument.variadic)
        return previous === argument.defaultValue || !Array.isArray(previous)
          ? [value]
          : [...previous, value];
      return value;
    });
  }
  for (const subcommand of command.commands) refuseEmptyArguments(subcommand);
}
