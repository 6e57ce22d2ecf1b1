/** The `sources` section: names, replay tolerance and each sender's own rules. */
import { JOB_SOURCE, SCHEDULE_SOURCE } from '../../lambda/shared/job';
import { configSenderFor } from '../senders';
import type { ViolationList } from '../violations';
import { checkDistinctIds, checkExistingSecretName, NAME_PATTERN, NAME_RULE, seconds } from './common';
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

/** Checks one source and names it. */
function resolveSource(problems: ViolationList, name: string, source: ParsedSource): ResolvedSource {
  const path = `sources.${name}`;
  if (!NAME_PATTERN.test(name)) {
    problems.add(
      path,
      `source names are ${NAME_RULE}`,
      name,
      'rename the source, e.g. "github" or "billing-stripe"',
    );
  }
  if (name === JOB_SOURCE || name === SCHEDULE_SOURCE) {
    // Jobs and scheduled events carry these as their envelope's source: a webhook source of that name would share
    // their dedupe keys and job records (`job#<id>`), their handlers (`job.<type>`) and their archive origin.
    problems.add(
      path,
      `is the source of every ${name === JOB_SOURCE ? 'job a producer sends' : 'scheduled event'}, so a webhook source cannot take it`,
      name,
      `rename the source, e.g. "${name}-hooks"`,
    );
  }
  checkTolerance(problems, path, source);
  checkExistingSecretName(
    problems,
    `${path}.secret.existingSecretName`,
    'secret' in source ? source.secret?.existingSecretName : undefined,
  );
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
