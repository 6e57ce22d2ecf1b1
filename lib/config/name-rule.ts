/**
 * The rule of source, queue and schedule names, in its own light module: the CLI checks a `--source` against it
 * while parsing its flags, before aws-cdk-lib (which the rest of the configuration's helpers load) is loaded.
 */

/** Source, queue and schedule names: they become resource names and URL segments. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** {@link NAME_PATTERN} in words, after the noun it names ("queue names are ..."). */
export const NAME_RULE =
  'lower-case letters, digits and dashes, starting with a letter, at most 40 characters';
