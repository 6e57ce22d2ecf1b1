/**
 * Route selection: the first rule whose source and type pattern match wins, else the default route.
 *
 * Type patterns (lambda/shared/type-pattern.ts, the same language as consumer handler keys): an exact type;
 * `*` stands for a run of one or more characters except `.`; `**` for any run at all.
 * So `orders/*` matches `orders/create`, `invoice.*` matches `invoice.paid` but not `invoice.a.b`, and
 * `invoice.**` matches both. A pattern that is exactly `*` matches every type: it is what the configuration
 * writes for a route without a type ("any event of this source").
 */
import type { IngestRuntimeConfig } from '../shared/ingest-config';
import { compileTypePattern } from '../shared/type-pattern';

/** The chosen destination of one event. */
export interface RouteDecision {
  readonly queues: readonly string[];
  readonly ignore: boolean;
  /** Index of the matching rule, or `default`. */
  readonly rule: number | 'default';
}

const compiled = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = compileTypePattern(pattern).regex;
    compiled.set(pattern, re);
  }
  return re;
}

/** True when `type` matches the route pattern. */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === '**') return true;
  return patternRegExp(pattern).test(type);
}

/** Picks the route for an event. */
export function selectRoute(
  config: Pick<IngestRuntimeConfig, 'routes' | 'defaultRoute'>,
  source: string,
  type: string,
): RouteDecision {
  for (const [index, route] of config.routes.entries()) {
    if ((route.source === '*' || route.source === source) && typeMatches(route.type, type)) {
      return { queues: route.queues, ignore: route.ignore, rule: index };
    }
  }
  return { queues: config.defaultRoute.queues, ignore: config.defaultRoute.ignore, rule: 'default' };
}
