/**
 * `hookline init`: writes a working project. The dependency versions are hookline's own (its package.json),
 * so a scaffolded project builds with what this release was tested with; it never overwrites a file.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { hooklineManifest, hooklinePackageRoot } from '../package-root';
import { CliError } from './errors';
import { projectFiles } from './init-templates';

/**
 * What `init` did: every file written, or the paths in its way (then nothing was written): files that exist, or
 * `.` alone when the target itself is a file.
 */
export type InitResult =
  | { readonly ok: true; readonly dir: string; readonly written: string[]; readonly nextSteps: string[] }
  | { readonly ok: false; readonly dir: string; readonly existing: string[] };

export interface InitOptions {
  /**
   * The hookline dependency to write: a version range, URL or path. A path (a tarball or folder) is read from
   * `cwd`, as any path typed in a shell, and written relative to the project, as `npm install <path>` writes it.
   * @default `^` and the running hookline's version
   */
  readonly hooklineSpec?: string;
  /** The folder `dir` and a path in `hooklineSpec` are relative to. @default the working directory */
  readonly cwd?: string;
  /** The folder of the hookline package whose versions the project gets. @default the running hookline's */
  readonly packageRoot?: string;
}

/** `text` as one shell word: as it is when plain, else single-quoted (`My Webhooks!` -> `'My Webhooks!'`). */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** Scaffolds a project into `dir` (created when missing); refuses when any of its files exists. */
export function initProject(dir: string, options: InitOptions = {}): InitResult {
  const cwd = options.cwd ?? process.cwd();
  const target = path.resolve(cwd, dir);
  const packageRoot = options.packageRoot ?? hooklinePackageRoot();
  const manifest = hooklineManifest(packageRoot);
  const spec = options.hooklineSpec ?? installedTarball(packageRoot);
  const files = projectFiles({
    name: projectName(target),
    hooklineSpec: spec === undefined ? `^${manifest.version}` : dependencyFromProject(spec, cwd, target),
    versions: { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies },
  });
  const existing = pathsInTheWay(target, Object.keys(files));
  if (existing.length > 0) return { ok: false, dir: target, existing };
  createFolder(target);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    writeFileSync(path.join(target, file), text, { flag: 'wx' });
  }
  // The folder as it was typed: an absolute path stays absolute rather than climbing out of the working directory.
  const relative = path.relative(cwd, target);
  const cd = relative && path.isAbsolute(dir) ? target : relative;
  return {
    ok: true,
    dir: target,
    written: Object.keys(files),
    nextSteps: [...(cd ? [`cd ${shellWord(cd)}`] : []), 'npm install', 'npm test', 'npm start'],
  };
}

/**
 * Creates `target` and the folders above it before any file is written, or says why it cannot (no permission, a
 * read-only disk, a file where a folder of the path goes) with nothing written, rather than fail as a bug.
 */
function createFolder(target: string): void {
  try {
    mkdirSync(target, { recursive: true });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new CliError(
      `cannot create ${target} (${code ?? message}); nothing was written (choose a folder you can write to)`,
    );
  }
}

/**
 * The tarball the running hookline was installed from, when the package.json whose `node_modules` holds it names one
 * (`npx --package ./hookline-0.1.0.tgz` and `npm install ./hookline-0.1.0.tgz` both write `file:<path>` there): a
 * version packed but not published is not on the registry, so the project gets the tarball that is running.
 */
function installedTarball(packageRoot: string): string | undefined {
  const modules = path.dirname(packageRoot);
  if (path.basename(modules) !== 'node_modules') return undefined;
  const owner = path.dirname(modules);
  let manifest: { dependencies?: Record<string, unknown>; devDependencies?: Record<string, unknown> };
  try {
    manifest = JSON.parse(readFileSync(path.join(owner, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const spec = manifest.dependencies?.hookline ?? manifest.devDependencies?.hookline;
  if (typeof spec !== 'string' || !spec.startsWith('file:')) return undefined;
  const tarball = path.resolve(owner, localPathIn(spec) ?? '');
  return /[.](?:tgz|tar\.gz|tar)$/i.test(tarball) && existsSync(tarball) ? tarball : undefined;
}

/**
 * npm's own reading of a dependency spec: a path when it starts with `file:`, `.`, `/`, `~/` or a drive letter,
 * or names a tarball (`.tgz`, `.tar.gz`, `.tar`) without a URL scheme; anything else (a range, a tag, `npm:`, a
 * URL, a git spec) is npm's to resolve.
 */
function localPathIn(spec: string): string | undefined {
  if (spec.startsWith('file:')) return spec.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
  if (/^(?:[.]|~[/\\]|[/\\]|[a-zA-Z]:)/.test(spec)) return spec;
  if (/[.](?:tgz|tar\.gz|tar)$/i.test(spec) && !/^[a-z][a-z0-9+.-]*:/i.test(spec)) return spec;
  return undefined;
}

/**
 * The hookline dependency as the new project's package.json must say it: a path given on the command line is
 * relative to where it was typed, but npm reads one in package.json relative to the project, so it is written
 * as `file:` and the path from the project to the same file (`init my-app --hookline ./hookline.tgz` writes
 * `file:../hookline.tgz`). A path with nothing at it is refused before anything is written: npm would only
 * find out at `npm install`, in a project that then has to be deleted.
 */
function dependencyFromProject(spec: string, cwd: string, target: string): string {
  const local = localPathIn(spec);
  if (local === undefined) return spec;
  const home = /^~[/\\]/.test(local) ? path.join(homedir(), local.slice(2)) : local;
  const absolute = path.resolve(cwd, home);
  if (!existsSync(absolute)) {
    throw new CliError(
      `--hookline ${spec}: nothing is at ${absolute}; nothing was written (give the path of a hookline ` +
        'tarball made by `npm pack` or of a hookline folder, or a version range)',
    );
  }
  const relative = path.relative(target, absolute).split(path.sep).join('/');
  return `file:${relative || '.'}`;
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
