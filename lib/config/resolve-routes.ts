/** The `routes` and `defaultRoute` sections: which queues receive which events. */
import { validateTypePattern } from '../../lambda/shared/type-pattern';
import { withDidYouMean } from '../closest-name';
import type { ViolationList } from '../violations';
import { checkQueueRefs } from './common';
import { DEFAULTS } from './defaults';
import type { ResolvedRoute } from './resolved';
import type { ParsedConfig } from './schema';

type RouteInput = NonNullable<ParsedConfig['routes']>[number];

/** Configured names a route may refer to. */
interface Names {
  readonly sources: readonly string[];
  readonly queues: readonly string[];
}

/** Rule: a route either ignores its events or sends them to at least one queue. */
function checkTargets(problems: ViolationList, path: string, route: RouteInput, ignore: boolean): void {
  const targets = route.queues ?? [];
  if (ignore && targets.length > 0) {
    problems.add(
      path,
      'a route either ignores events or sends them to queues, not both',
      route,
      'remove queues or ignore',
    );
  }
  if (!ignore && targets.length === 0) {
    problems.add(
      `${path}.queues`,
      'a route needs at least one target queue (or ignore: true)',
      route.queues,
      'add queues: ["events"], or set ignore: true',
    );
  }
}

/** Rule: the type pattern is in the routing dialect (`lambda/shared/type-pattern.ts`). */
function checkTypePattern(problems: ViolationList, path: string, route: RouteInput, pattern: string): void {
  try {
    validateTypePattern(pattern);
  } catch (error) {
    problems.add(
      `${path}.type`,
      (error as Error).message,
      route.type,
      'use an exact type, "*" for one segment or "**" for anything',
    );
  }
}

/** One route, checked, with its defaults filled. */
function resolveRoute(
  problems: ViolationList,
  index: number,
  route: RouteInput,
  names: Names,
): ResolvedRoute {
  const path = `routes.${index}`;
  const source = route.source ?? DEFAULTS.routeSource;
  if (source !== '*' && !names.sources.includes(source)) {
    problems.add(
      `${path}.source`,
      withDidYouMean('names a source that is not configured', source, names.sources),
      source,
      `use one of: ${names.sources.join(', ')}, or "*"`,
    );
  }
  const ignore = route.ignore ?? false;
  const targets = route.queues ?? [];
  checkTargets(problems, path, route, ignore);
  checkQueueRefs(problems, `${path}.queues`, targets, names.queues);
  const type = route.type ?? DEFAULTS.routeType;
  checkTypePattern(problems, path, route, type);
  return { source, type, queues: targets, ignore };
}

/** Every configured route, checked. */
export function resolveRoutes(problems: ViolationList, config: ParsedConfig): ResolvedRoute[] {
  const names = { sources: Object.keys(config.sources), queues: Object.keys(config.queues) };
  return (config.routes ?? []).map((route, i) => resolveRoute(problems, i, route, names));
}

/** Where unrouted events go: the configured queues, nowhere (`'ignore'`), or the first queue. */
export function resolveDefaultRoute(problems: ViolationList, config: ParsedConfig): ResolvedRoute {
  if (config.defaultRoute === 'ignore') return { source: '*', type: '**', queues: [], ignore: true };
  const queueNames = Object.keys(config.queues);
  const targets = config.defaultRoute?.queues ?? queueNames.slice(0, 1);
  if (config.defaultRoute && targets.length === 0) {
    problems.add(
      'defaultRoute.queues',
      'needs at least one queue',
      targets,
      'add a queue name, or use defaultRoute: "ignore"',
    );
  }
  checkQueueRefs(problems, 'defaultRoute.queues', targets, queueNames);
  return { source: '*', type: '**', queues: targets, ignore: false };
}
