/** The `sources` section: names, replay tolerance and each sender's own rules. */
import { configSenderFor } from '../senders';
import type { ViolationList } from '../violations';
import { checkDistinctIds, NAME_PATTERN, seconds } from './common';
import type { ResolvedSource } from './resolved';
import type { ParsedConfig, ParsedSource } from './schema';

/** Rule: a signature tolerance is positive and at most an hour. */
function checkTolerance(problems: ViolationList, path: string, source: ParsedSource): void {
  if (!('tolerance' in source) || source.tolerance === undefined) return;
  const s = seconds(source.tolerance);
  if (s <= 0) {
    problems.add(
      `${path}.tolerance`,
      'a tolerance of 0 disables replay protection and is refused',
      source.tolerance,
      'remove it to use the 5-minute default, or give a positive Duration',
    );
  } else if (s > 3600) {
    problems.add(
      `${path}.tolerance`,
      'tolerance above 1 hour leaves a long replay window',
      source.tolerance,
      'use at most Duration.hours(1); the senders sign fresh timestamps on every retry',
    );
  }
}

/** What Secrets Manager takes as a secret's name: 1 to 512 ASCII letters, digits and `/_+=.@-`. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * Rule: an existing secret is named as Secrets Manager names one. The name is only looked up once deployed, so a
 * name it cannot hold (an ARN, a space) would deploy, then have every webhook of the source answered 503.
 */
function checkExistingSecretName(problems: ViolationList, path: string, source: ParsedSource): void {
  const name = 'secret' in source ? source.secret?.existingSecretName : undefined;
  if (name === undefined || SECRET_NAME.test(name)) return;
  const arn = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+?)(-[A-Za-z0-9]{6})?$/.exec(name);
  problems.add(
    `${path}.secret.existingSecretName`,
    arn
      ? "is a secret's ARN, and this field takes its name"
      : 'a Secrets Manager secret name is 1 to 512 ASCII letters, digits and /_+=.@- (no spaces)',
    name,
    arn
      ? `give the name alone, e.g. "${arn[1]}" (the secret must be in the stack's account and region)`
      : "copy the secret's name from the Secrets Manager console",
  );
}

/** Checks one source and names it. */
function resolveSource(problems: ViolationList, name: string, source: ParsedSource): ResolvedSource {
  const path = `sources.${name}`;
  if (!NAME_PATTERN.test(name)) {
    problems.add(
      path,
      'source names are lower-case letters, digits and dashes, starting with a letter, at most 40 characters',
      name,
      'rename the source, e.g. "github" or "billing-stripe"',
    );
  }
  checkTolerance(problems, path, source);
  checkExistingSecretName(problems, path, source);
  problems.addAll(path, configSenderFor(source).violations(source));
  return { ...source, name };
}

/** Every configured source, checked. */
export function resolveSources(problems: ViolationList, config: ParsedConfig): ResolvedSource[] {
  checkDistinctIds(
    problems,
    'source',
    Object.keys(config.sources).map((name) => [`sources.${name}`, name]),
  );
  return Object.entries(config.sources).map(([name, source]) => resolveSource(problems, name, source));
}
