import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { USAGE_EXIT_CODE } from '../../lib/cli/errors';
import { initProject } from '../../lib/cli/init';
import { ALLOW_SCRIPTS } from '../../lib/cli/init-templates';
import { runCli } from '../../lib/cli/program';
import { assertLocalPackages } from '../../lib/local/dev';
import { hooklinePackageRoot, hooklineVersion } from '../../lib/package-root';
import { cliHarness } from './helpers';

const dirs: string[] = [];
function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-init-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? filesUnder(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
    )
    .sort();
}

describe('install scripts an app allows', () => {
  it("are the same in README's existing-app section, init's package.json and hookline's own", () => {
    const readme = readFileSync(join(hooklinePackageRoot(), 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Add to an existing CDK app'));
    const block = /```json\n"allowScripts": (\{[^\n]*\})\n```/.exec(
      section.slice(0, section.indexOf('\n## ')),
    );
    expect(block, "README's existing-app section shows the allowScripts to add").not.toBeNull();
    expect(JSON.parse(block?.[1] ?? '{}')).toEqual(ALLOW_SCRIPTS);
    const own = JSON.parse(readFileSync(join(hooklinePackageRoot(), 'package.json'), 'utf8'));
    expect(own.allowScripts).toEqual(ALLOW_SCRIPTS);
  });
});

describe('hookline init', () => {
  it('creates a project whose scripts start, test and deploy it on a pinned Node', async () => {
    const parent = emptyDir();
    const dir = join(parent, 'my-hooks');
    const h = cliHarness();
    writeFileSync(join(parent, 'hookline.tgz'), 'a tarball');
    expect(await runCli(['init', dir, '--hookline', join(parent, 'hookline.tgz')], h.deps)).toBe(0);
    expect(filesUnder(dir)).toEqual(
      [
        '.gitignore',
        'README.md',
        'bin/app.ts',
        'cdk.json',
        'consumers/events.ts',
        'hookline.config.ts',
        'package.json',
        'test/events.test.ts',
        'tsconfig.json',
        'vitest.config.ts',
      ].sort(),
    );
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('my-hooks');
    expect(manifest.scripts).toMatchObject({
      start: 'hookline dev',
      test: 'tsc --noEmit && vitest run',
      deploy: 'cdk deploy',
    });
    expect(manifest.devDependencies.hookline).toBe('file:../hookline.tgz');
    expect(manifest.devDependencies.node).toMatch(/^\^?24\./);
    expect(manifest.allowScripts).toEqual(ALLOW_SCRIPTS);
    // Every dependency pinned to the range hookline itself is built and tested with: none is "latest".
    expect(Object.values(manifest.devDependencies).filter((range) => range === 'latest')).toEqual([]);
    const config = readFileSync(join(dir, 'hookline.config.ts'), 'utf8');
    expect(config).toContain("entry: 'consumers/events.ts'");
    expect(h.stdout()).toMatch(new RegExp(`^created 10 files in ${dir}\n`));
    expect(h.stdout()).toContain('npm install');
    // aws-cdk-lib and constructs at the versions hookline builds with, not the lowest its peer range allows.
    const own = JSON.parse(readFileSync(join(hooklinePackageRoot(), 'package.json'), 'utf8'));
    expect(manifest.devDependencies['aws-cdk-lib']).toBe(own.devDependencies['aws-cdk-lib']);
    expect(manifest.devDependencies.constructs).toBe(own.devDependencies.constructs);
    // The project's README points at the guide installed with hookline (a file the package ships), not at a
    // registry page the package may not have.
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).not.toMatch(/https?:\/\//);
    const guide = /`node_modules\/hookline\/([^`]+)`/.exec(readme)?.[1];
    expect(guide).toBe('README.md');
    expect(own.files).toContain(guide);
  });

  it('--json prints what it wrote as one JSON document, and a refusal as {"error"} with exit 1', async () => {
    const dir = emptyDir();
    const h = cliHarness();
    expect(await runCli(['init', dir, '--json'], h.deps)).toBe(0);
    const report = JSON.parse(h.stdout());
    expect(report).toEqual({ dir, written: expect.any(Array), nextSteps: expect.any(Array) });
    expect(report.written).toContain('hookline.config.ts');
    expect(report.nextSteps.at(-1)).toBe('npm start');
    expect(h.stderr()).toBe('');
    const again = cliHarness();
    expect(await runCli(['init', dir, '--json'], again.deps)).toBe(1);
    expect(JSON.parse(again.stdout()).error).toMatch(
      /already has .*; nothing was written \(choose an empty folder\)$/,
    );
  });

  it('writes the running hookline release as the hookline dependency when --hookline is left out', async () => {
    const dir = emptyDir();
    expect(await runCli(['init', dir], cliHarness().deps)).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.devDependencies.hookline).toBe(`^${hooklineVersion()}`);
  });

  it('writes a tarball or folder path typed relative to the working directory as the path from the new project to it, as npm reads it', async () => {
    const parent = emptyDir();
    const cwd = process.cwd();
    const written: Record<string, string> = {};
    writeFileSync(join(parent, 'hookline-0.1.0.tgz'), 'a tarball');
    mkdirSync(join(parent, 'checkouts', 'hookline'), { recursive: true });
    process.chdir(parent);
    try {
      for (const [dir, spec] of [
        ['dotted', './hookline-0.1.0.tgz'],
        ['bare', 'hookline-0.1.0.tgz'],
        ['file', 'file:hookline-0.1.0.tgz'],
        ['nested/deeper', './hookline-0.1.0.tgz'],
        ['checkout', './checkouts/hookline'],
        ['here-absolute', join(parent, 'hookline-0.1.0.tgz')],
      ] as const) {
        expect(await runCli(['init', dir, '--hookline', spec], cliHarness().deps)).toBe(0);
        written[dir] = JSON.parse(
          readFileSync(join(parent, dir, 'package.json'), 'utf8'),
        ).devDependencies.hookline;
      }
      // In the working directory itself, the path stays what it was.
      mkdirSync('in-place');
      process.chdir('in-place');
      expect(await runCli(['init', '--hookline', '../hookline-0.1.0.tgz'], cliHarness().deps)).toBe(0);
      written['in-place'] = JSON.parse(readFileSync('package.json', 'utf8')).devDependencies.hookline;
    } finally {
      process.chdir(cwd);
    }
    expect(written).toEqual({
      dotted: 'file:../hookline-0.1.0.tgz',
      bare: 'file:../hookline-0.1.0.tgz',
      file: 'file:../hookline-0.1.0.tgz',
      'nested/deeper': 'file:../../hookline-0.1.0.tgz',
      checkout: 'file:../checkouts/hookline',
      'here-absolute': 'file:../hookline-0.1.0.tgz',
      'in-place': 'file:../hookline-0.1.0.tgz',
    });
  });

  it('refuses a --hookline path with nothing at it, naming where it looked, and writes nothing', async () => {
    const parent = emptyDir();
    const h = cliHarness();
    const cwd = process.cwd();
    process.chdir(parent);
    try {
      expect(await runCli(['init', 'my-hooks', '--hookline', './hookline-0.1.0.tgz'], h.deps)).toBe(1);
    } finally {
      process.chdir(cwd);
    }
    expect(h.stderr()).toContain(
      `error: --hookline ./hookline-0.1.0.tgz: nothing is at ${join(parent, 'hookline-0.1.0.tgz')}; nothing was written`,
    );
    expect(filesUnder(parent)).toEqual([]);
  });

  it('reads a --hookline path from the folder it is given as cwd, not the process working directory', () => {
    const parent = emptyDir();
    writeFileSync(join(parent, 'hookline-0.1.0.tgz'), '');
    const result = initProject('my-hooks', { cwd: parent, hooklineSpec: './hookline-0.1.0.tgz' });
    expect(result.ok).toBe(true);
    const manifest = JSON.parse(readFileSync(join(parent, 'my-hooks', 'package.json'), 'utf8'));
    expect(manifest.devDependencies.hookline).toBe('file:../hookline-0.1.0.tgz');
  });

  describe('without --hookline, run from a packed tarball, the project depends on that tarball, not on an unpublished version', () => {
    /** hookline installed in `owner/node_modules/hookline` by `owner/package.json`, which names it as `spec`. */
    function installedBy(
      spec: string,
      tarball?: string,
      { field = 'dependencies', modules = 'node_modules' } = {},
    ): { parent: string; packageRoot: string } {
      const parent = emptyDir();
      if (tarball) writeFileSync(join(parent, tarball), '');
      const owner = join(parent, 'npx-cache');
      const packageRoot = join(owner, modules, 'hookline');
      mkdirSync(packageRoot, { recursive: true });
      writeFileSync(join(owner, 'package.json'), JSON.stringify({ [field]: { hookline: spec } }));
      writeFileSync(
        join(packageRoot, 'package.json'),
        readFileSync(join(hooklinePackageRoot(), 'package.json'), 'utf8'),
      );
      return { parent, packageRoot };
    }
    const writtenSpec = (dir: string) =>
      JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).devDependencies.hookline;

    it('writes the tarball npx or npm installed the running hookline from, relative to the project', () => {
      const { parent, packageRoot } = installedBy('file:../hookline-0.1.0.tgz', 'hookline-0.1.0.tgz');
      expect(initProject('my-hooks', { cwd: parent, packageRoot }).ok).toBe(true);
      expect(writtenSpec(join(parent, 'my-hooks'))).toBe('file:../hookline-0.1.0.tgz');
    });

    it('writes the tarball a project installed the running hookline from as a devDependency', () => {
      const { parent, packageRoot } = installedBy('file:../hookline-0.1.0.tgz', 'hookline-0.1.0.tgz', {
        field: 'devDependencies',
      });
      expect(initProject('my-hooks', { cwd: parent, packageRoot }).ok).toBe(true);
      expect(writtenSpec(join(parent, 'my-hooks'))).toBe('file:../hookline-0.1.0.tgz');
    });

    it('writes the version range when the running hookline is not installed in a node_modules folder, whatever the package.json two folders up names', () => {
      const { parent, packageRoot } = installedBy('file:../hookline-0.1.0.tgz', 'hookline-0.1.0.tgz', {
        modules: 'packages',
      });
      expect(initProject('my-hooks', { cwd: parent, packageRoot }).ok).toBe(true);
      expect(writtenSpec(join(parent, 'my-hooks'))).toBe(`^${hooklineVersion()}`);
    });

    it('writes the version range when the running hookline came from the registry', () => {
      const { parent, packageRoot } = installedBy('^0.1.0');
      expect(initProject('my-hooks', { cwd: parent, packageRoot }).ok).toBe(true);
      expect(writtenSpec(join(parent, 'my-hooks'))).toBe(`^${hooklineVersion()}`);
    });

    it('writes the version range when the tarball it came from is gone', () => {
      const { parent, packageRoot } = installedBy('file:../hookline-0.1.0.tgz');
      expect(initProject('my-hooks', { cwd: parent, packageRoot }).ok).toBe(true);
      expect(writtenSpec(join(parent, 'my-hooks'))).toBe(`^${hooklineVersion()}`);
    });

    it('writes a --hookline given instead of the tarball it runs from', () => {
      const { parent, packageRoot } = installedBy('file:../hookline-0.1.0.tgz', 'hookline-0.1.0.tgz');
      expect(initProject('my-hooks', { cwd: parent, packageRoot, hooklineSpec: '^0.2.0' }).ok).toBe(true);
      expect(writtenSpec(join(parent, 'my-hooks'))).toBe('^0.2.0');
    });
  });

  it('writes a version range, tag, alias or URL given as --hookline as it is, for npm to resolve', async () => {
    for (const spec of [
      '^0.2.0',
      'next',
      'npm:@acme/hookline@^0.1.0',
      'https://example.com/hookline-0.1.0.tgz',
    ]) {
      const dir = emptyDir();
      expect(await runCli(['init', dir, '--hookline', spec], cliHarness().deps)).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).devDependencies.hookline).toBe(spec);
    }
  });

  it('refuses an empty folder name (an unset variable) instead of writing into the working directory', async () => {
    const dir = emptyDir();
    const h = cliHarness();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await runCli(['init', '', '--hookline', 'file:../hookline.tgz'], h.deps)).toBe(USAGE_EXIT_CODE);
    } finally {
      process.chdir(cwd);
    }
    expect(h.stderr()).toContain(
      "value '' is invalid for argument 'dir'. it is empty: give a value, or leave it out",
    );
    expect(filesUnder(dir)).toEqual([]);
  });

  it('refuses an empty --hookline (an unset variable) instead of writing the default release, and writes nothing', async () => {
    const dir = join(emptyDir(), 'my-hooks');
    const h = cliHarness();
    expect(await runCli(['init', dir, '--hookline', ''], h.deps)).toBe(USAGE_EXIT_CODE);
    expect(h.stderr()).toContain(
      "option '--hookline <spec>' argument '' is invalid. it is empty: give a value, or leave it out",
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('quotes a folder name with spaces or shell characters in the next steps', async () => {
    const parent = emptyDir();
    const h = cliHarness();
    const cwd = process.cwd();
    process.chdir(parent);
    try {
      expect(await runCli(['init', "My Hook's!"], h.deps)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(h.stdout()).toContain("next: cd 'My Hook'\\''s!' && npm install");
  });

  it('names an absolute folder in the next steps as it was given, not relative to the working directory', async () => {
    const dir = join(emptyDir(), 'hooks');
    const h = cliHarness();
    expect(await runCli(['init', dir], h.deps)).toBe(0);
    expect(h.stdout()).toContain(`\nnext: cd ${dir} && npm install && npm test && npm start\n`);
  });

  it('names no folder to cd into when the folder given as an absolute path is the working directory', () => {
    const dir = emptyDir();
    expect(initProject(dir, { cwd: dir, hooklineSpec: '^0.1.0' })).toMatchObject({
      ok: true,
      nextSteps: ['npm install', 'npm test', 'npm start'],
    });
  });

  it('names the npm package and the stack after the folder: lowercase dashes for npm, PascalCase for CloudFormation', async () => {
    const dir = join(emptyDir(), "My Hook's!");
    expect(await runCli(['init', dir], cliHarness().deps)).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name).toBe('my-hook-s');
    expect(readFileSync(join(dir, 'hookline.config.ts'), 'utf8')).toContain("stackName: 'MyHookS',");
  });

  it('gives a folder named without letters a valid package name and a stack name that starts with a letter', async () => {
    const symbols = join(emptyDir(), '___');
    expect(await runCli(['init', symbols], cliHarness().deps)).toBe(0);
    expect(JSON.parse(readFileSync(join(symbols, 'package.json'), 'utf8')).name).toBe('hookline-app');
    expect(readFileSync(join(symbols, 'hookline.config.ts'), 'utf8')).toContain("stackName: 'HooklineApp',");

    // CloudFormation stack names start with a letter.
    const digits = join(emptyDir(), '2026');
    expect(await runCli(['init', digits], cliHarness().deps)).toBe(0);
    expect(JSON.parse(readFileSync(join(digits, 'package.json'), 'utf8')).name).toBe('2026');
    expect(readFileSync(join(digits, 'hookline.config.ts'), 'utf8')).toContain("stackName: 'Hookline2026',");
  });

  it('in the working directory the next steps start at npm install, with no cd', async () => {
    const dir = emptyDir();
    const h = cliHarness();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await runCli(['init'], h.deps)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(h.stdout()).toContain('\nnext: npm install && npm test && npm start\n');
    expect(filesUnder(dir)).toContain('hookline.config.ts');
  });

  it('refuses to overwrite: lists the files that exist, writes nothing and exits 1', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'package.json'), '{"name":"mine"}');
    mkdirSync(join(dir, 'consumers'));
    writeFileSync(join(dir, 'consumers/events.ts'), '// mine');
    const h = cliHarness();
    expect(await runCli(['init', dir], h.deps)).toBe(1);
    expect(h.stderr()).toMatch(/already has package\.json, consumers\/events\.ts; nothing was written/);
    expect(filesUnder(dir)).toEqual(['consumers/events.ts', 'package.json']);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe('{"name":"mine"}');
  });
});

describe('hookline init in a folder that has one of its files', () => {
  it("keeps the project's own README.md: refuses, names it, writes nothing else and exits 1", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'README.md'), '# mine\n');
    const h = cliHarness();
    expect(await runCli(['init', dir], h.deps)).toBe(1);
    expect(h.stderr()).toContain(
      `error: ${dir} already has README.md; nothing was written (choose an empty folder)`,
    );
    expect(filesUnder(dir)).toEqual(['README.md']);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# mine\n');
  });
});

describe('hookline init where a file stands in the way of a folder', () => {
  it('refuses before writing anything when a plain file has the name of a folder it creates, and names it', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'consumers'), 'mine');
    const h = cliHarness();
    expect(await runCli(['init', dir], h.deps)).toBe(1);
    expect(h.stderr()).toContain(
      `error: ${dir} already has consumers; nothing was written (choose an empty folder)`,
    );
    expect(filesUnder(dir)).toEqual(['consumers']);
  });

  it('refuses a target that is a file, and leaves it as it was', async () => {
    const file = join(emptyDir(), 'notes.txt');
    writeFileSync(file, 'mine');
    const h = cliHarness();
    expect(await runCli(['init', file], h.deps)).toBe(1);
    expect(h.stderr()).toContain(
      `error: ${file} is a file, not a folder; nothing was written (choose an empty folder)`,
    );
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });
});

describe('hookline init where its folder cannot be created', () => {
  it('says why in one line with nothing written, not as a bug with a stack trace', async () => {
    const file = join(emptyDir(), 'notes.txt');
    writeFileSync(file, 'mine');
    const dir = join(file, 'my-hooks');
    const h = cliHarness();
    expect(await runCli(['init', dir], h.deps)).toBe(1);
    expect(h.stderr()).toBe(
      `error: cannot create ${dir} (ENOTDIR); nothing was written (choose a folder you can write to)\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });
});

describe('hookline dev prerequisites', () => {
  it("names the install command when fauxqs or dynalite is missing, at the versions of hookline's peer dependencies", () => {
    const missing = (name: string) => {
      if (name === 'dynalite') throw new Error('Cannot find package');
      return `file:///node_modules/${name}/index.js`;
    };
    const { peerDependencies: peers } = JSON.parse(
      readFileSync(join(hooklinePackageRoot(), 'package.json'), 'utf8'),
    ) as { peerDependencies: Record<string, string> };
    expect(() => assertLocalPackages(missing)).toThrow(
      `local mode needs dynalite: run npm install --save-dev fauxqs@${peers.fauxqs} dynalite@${peers.dynalite}`,
    );
    expect(() => assertLocalPackages((name) => name)).not.toThrow();
  });
});
