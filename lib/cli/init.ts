/**
 * `hookline init`: writes a working project. The dependency versions are hookline's own (its package.json),
 * so a scaffolded project builds with what this release was tested with; it never overwrites a file.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { hooklinePackageRoot } from '../package-root';
import { projectFiles } from './init-templates';

/**
 * What `init` did: every file written, or the paths in its way (then nothing was written): files that exist, or
 * `.` alone when the target itself is a file.
 */
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
  const existing = pathsInTheWay(target, Object.keys(files));
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

/**
 * What stops the project's files from being written, relative to `target`: each file that exists, and each file
 * standing where a folder must go (a plain file `bin` where `bin/app.ts` goes, or `target` itself), so a refusal
 * comes before the first write instead of a crash half-way through.
 */
function pathsInTheWay(target: string, files: readonly string[]): string[] {
  const folders = new Set(['.', ...files.flatMap((file) => ancestorsOf(path.dirname(file)))]);
  const notFolders = [...folders].filter((folder) => {
    const at = path.join(target, folder);
    return existsSync(at) && !statSync(at).isDirectory();
  });
  if (notFolders.includes('.')) return ['.'];
  return [...notFolders, ...files.filter((file) => existsSync(path.join(target, file)))];
}

/** `a/b` -> `a`, `a/b`; `.` -> nothing. */
function ancestorsOf(folder: string): string[] {
  if (folder === '.') return [];
  return [...ancestorsOf(path.dirname(folder)), folder];
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
