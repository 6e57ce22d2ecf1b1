import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { readLocalTarget } from '../../lib/cli/target';

const root = join(__dirname, '..', '..');

/** The TypeScript files under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/**
 * Where `npm start` is right alone: the project `hookline init` writes has that script (its README, its next steps
 * and `init`'s help example, the description of `dev`, which is what that script runs).
 */
const HAS_THE_SCRIPT = new Set([
  'lib/cli/init-templates.ts',
  'lib/cli/init.ts',
  'lib/cli/help-examples.ts',
  'lib/cli/project-commands.ts',
  'lambda/shared/local-mode-command.ts',
]);

describe('hints that ask to start local mode', () => {
  it('name both npm start and npx hookline dev, for a CDK app without the script', () => {
    expect(START_LOCAL_MODE).toBe('npm start or npx hookline dev');
    expect(() => readLocalTarget(join(root, 'no-such-dir', 'local.json'))).toThrow(
      'local mode is not running: start it with npm start or npx hookline dev',
    );
  });

  it('come from START_LOCAL_MODE: no message of the CLI, the console or the producer names npm start alone', () => {
    const alone = [...sources('lib/cli'), ...sources('lib/console'), ...sources('lambda')]
      .filter((file) => !HAS_THE_SCRIPT.has(file))
      .flatMap((file) =>
        readFileSync(join(root, file), 'utf8')
          .split('\n')
          .map((line, i) => ({ where: `${file}:${i + 1}`, line: line.trim() }))
          // Comments may say what a reader runs; only what is printed must name both.
          .filter(({ line }) => line.includes('npm start') && !/^(\/\/|\*|\/\*\*)/.test(line)),
      );
    expect(alone).toEqual([]);
  });
});
