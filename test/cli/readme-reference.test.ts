import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../lib/cli/program';
import { cliHarness } from './helpers';

const root = join(__dirname, '..', '..');
const cliReadme = readFileSync(join(root, 'lib', 'cli', 'README.md'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The README's "Operations" section: from its heading to the next second-level heading. */
function operationsSection(): string {
  const start = readme.indexOf('\n## Operations\n');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end);
}

/** Every command that runs something (not a group such as `failed`), by its full name, with its long flags. */
function leafCommands(command: Command, prefix = ''): { name: string; flags: string[] }[] {
  return command.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    if (sub.commands.length > 0) return leafCommands(sub, `${name} `);
    const flags = sub.options.flatMap((option) => (option.long ? [option.long] : []));
    return [{ name, flags }];
  });
}

const commands = leafCommands(buildProgram(cliHarness().deps, () => {}));

/** `--wait` is documented by its `--no-wait`, and the reverse. */
const documented = (text: string, flag: string) =>
  text.includes(flag) || text.includes(flag.replace(/^--(no-)?/, (_, no) => (no ? '--' : '--no-')));

describe('the documentation names what the CLI has', () => {
  it('names every command in the README Operations section', () => {
    const section = operationsSection();
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.map((c) => c.name).filter((name) => !section.includes(`\`${name}`))).toEqual([]);
  });

  it('names every flag of every command in the command reference (lib/cli/README.md)', () => {
    const missing = commands.flatMap(({ name, flags }) =>
      flags.filter((flag) => !documented(cliReadme, flag)).map((flag) => `${name} ${flag}`),
    );
    expect(missing).toEqual([]);
  });
});
