/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. of bench/_ingest-profile.ts): self time per
 * function (or per package with `--by package`), and with `--match <regex>` the inclusive time of the matching
 * functions, each divided by `--requests` to read as µs per request. Compare two variants' summaries (or
 * `--diff <other dir>`) instead of reading a flame graph by eye.
 * `npx tsx bench/_cpuprofile.ts /tmp/prof-ingest --requests 5000 [--by package] [--match 'lambda/'] [--diff /tmp/prof-send]`
 * The leading underscore keeps `npm run bench` from running it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '1' },
    by: { type: 'string', default: 'function' },
    match: { type: 'string' },
    diff: { type: 'string' },
    top: { type: 'string', default: '40' },
  },
});

/** The newest `.cpuprofile` of a directory (or the file itself). */
function load(where: string): Profile {
  const file = where.endsWith('.cpuprofile')
    ? where
    : path.join(
        where,
        readdirSync(where)
          .filter((f) => f.endsWith('.cpuprofile'))
          .sort()
          .at(-1) ?? '',
      );
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(lambda|bench|lib)\//, '$1/');
}

function keyOf(node: ProfileNode, by: string): string {
  const url = shortUrl(node.callFrame.url);
  if (by === 'package')
    return /^(@[^/]+\/[^/]+|[^/]+)/.exec(url)?.[1] ?? (node.callFrame.functionName || '(native)');
  return `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber}`;
}

/** Microseconds per key: self time, or inclusive time (once per sample) of the keys matching `match`. */
function summarize(profile: Profile, by: string, match: RegExp | undefined): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const totals = new Map<string, number>();
  profile.samples.forEach((sample, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = match ? parent.get(id) : undefined) {
      const key = keyOf(byId.get(id) as ProfileNode, by);
      if ((!match || match.test(key)) && !seen.has(key)) {
        seen.add(key);
        totals.set(key, (totals.get(key) ?? 0) + delta);
      }
    }
  });
  return totals;
}

const requests = Number(values.requests);
const match = values.match ? new RegExp(values.match) : undefined;
const main = summarize(load(positionals[0] ?? '.'), values.by ?? 'function', match);
const other = values.diff ? summarize(load(values.diff), values.by ?? 'function', match) : undefined;
const keys = new Set([...main.keys(), ...(other?.keys() ?? [])]);
const rows = [...keys].map((key) => {
  const here = (main.get(key) ?? 0) / requests;
  const there = (other?.get(key) ?? 0) / requests;
  return { key, here, there, delta: here - there };
});
rows.sort((a, b) => Math.abs(other ? b.delta : b.here) - Math.abs(other ? a.delta : a.here));
for (const row of rows.slice(0, Number(values.top))) {
  const figures = other
    ? `${row.delta.toFixed(1).padStart(8)} ${row.here.toFixed(1).padStart(8)} ${row.there.toFixed(1).padStart(8)}`
    : row.here.toFixed(1).padStart(8);
  console.log(`${figures}  ${row.key}`);
}
