/**
 * `hookline init`: writes a working project. The dependency versions are hookline's own (its package.json),
 * so a scaffolded project builds with what this release was tested with; it never overwrites a file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { hooklinePackageRoot } from '../package-root';
import { projectFiles } from './init-templates';

/** What `init` did: every file written, or the files that already exist (then nothing was written). */
export type InitResult =
  | { readonly ok: true; readonly dir: string; readonly written: string[]; readonly nextSteps: string[] }
  | { readonly ok: false; readonly dir: string; readonly existing: string[] };

export interface InitOptions {
  /** The hookline dependency to write. @default `^` and the running hookline's version */
  readonly hooklineSpec?: string;
}

interface Manifest {
  readonly version: string;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
  readonly peerDependencies: Record<string, string>;
}

/** `text` as one shell word: as it is when plain, else single-quoted (`My Webhooks!` -> `'My Webhooks!'`). */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** Scaffolds a project into `dir` (created when missing); refuses when any of its files exists. */
export function initProject(dir: string, options: InitOptions = {}): InitResult {
  const target = path.resolve(dir);
  const manifest = JSON.parse(
    readFileSync(path.join(hooklinePackageRoot(), 'package.json'), 'utf8'),
  ) as Manifest;
  const files = projectFiles({
    name: projectName(target),
    hooklineSpec: options.hooklineSpec ?? `^${manifest.version}`,
    versions: { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies },
  });
  const existing = Object.keys(files).filter((file) => existsSync(path.join(target, file)));
  if (existing.length > 0) return { ok: false, dir: target, existing };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    writeFileSync(path.join(target, file), text, { flag: 'wx' });
  }
  const cd = path.relative(process.cwd(), target);
  return {
    ok: true,
    dir: target,
    written: Object.keys(files),
    nextSteps: [...(cd ? [`cd ${shellWord(cd)}`] : []), 'npm install', 'npm test', 'npm start'],
  };
}

/** An npm package name from the folder name (lowercase, dashes). */
function projectName(dir: string): string {
  const name = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || 'hookline-app';
}
