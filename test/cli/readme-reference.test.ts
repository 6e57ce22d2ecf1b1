import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { projectFiles } from '../../lib/cli/init-templates';
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

/** The commands of the README's ```bash blocks under `heading`, each without its comment. */
function readmeCommands(heading: string): string[] {
  const start = readme.indexOf(heading);
  const end = readme.indexOf('\n## ', start + heading.length);
  return [...readme.slice(start, end).matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((block) =>
    (block[1] ?? '').split('\n').flatMap((line) => {
      const command = line.replace(/\s+#.*$/, '').trim();
      return command ? [command] : [];
    }),
  );
}

/** The npm scripts a command line runs (`npm start`, `npm run deploy`), by name. */
function npmScripts(commandLine: string): string[] {
  return [...commandLine.matchAll(/\bnpm (?:run )?(start|test|(?<=run )[\w:-]+)/g)].map(
    (match) => match[1] ?? '',
  );
}

/** The flags a `hookline <command>` line of the README passes that its command does not have. */
function unknownFlags(commandLine: string): string[] {
  const words = commandLine.split(/\s+/);
  const command = commands.find(({ name }) => commandLine.includes(`hookline ${name} `));
  if (!command) return [`${commandLine}: no such command`];
  return words.filter((word) => word.startsWith('--') && !command.flags.includes(word));
}

describe("the README's first commands run as written", () => {
  it('runs npm scripts this repository has, on its first screen', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: object }).scripts,
    );
    const intro = readme.slice(0, readme.indexOf('\n## '));
    const named = [...intro.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((block) =>
      npmScripts(block[1] ?? ''),
    );
    expect(named).toEqual(['start', 'test']);
    expect(named.filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it('makes a new project with a hookline command and flags that exist, and runs scripts that project has', () => {
    const lines = readmeCommands('## Start a new project');
    const project = JSON.parse(
      projectFiles({ name: 'my-webhooks', hooklineSpec: '^0.1.0', versions: {} })['package.json'] ?? '{}',
    ) as { scripts: object };
    const named = lines.flatMap(npmScripts);
    expect(named).toEqual(['test', 'start', 'deploy']);
    expect(named.filter((script) => !Object.keys(project.scripts).includes(script))).toEqual([]);
    expect(lines.filter((line) => line.includes('hookline ')).flatMap(unknownFlags)).toEqual([]);
  });
});
