import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { projectFiles } from '../../lib/cli/init-templates';
import { buildProgram } from '../../lib/cli/program';
import { LOCAL_EVENT_NAMES } from '../../lib/local/reporter';
import { cliHarness } from './helpers';

const root = join(__dirname, '..', '..');
const cliReadme = readFileSync(join(root, 'lib', 'cli', 'README.md'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const localReadme = readFileSync(join(root, 'lib', 'local', 'README.md'), 'utf8');

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

/** The operator's documents: the README, the command reference, local mode's README and the guides under `docs/`. */
const operatorDocs: { file: string; text: string }[] = [
  { file: 'README.md', text: readme },
  { file: 'lib/cli/README.md', text: cliReadme },
  { file: 'lib/local/README.md', text: localReadme },
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => ({ file: `docs/${name}`, text: readFileSync(join(root, 'docs', name), 'utf8') })),
];

/** Every line of code the text shows: its code spans and the lines of its fenced blocks. */
function codeLines(text: string): string[] {
  const spans = [...text.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] ?? '');
  const blocks = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((block) =>
    (block[1] ?? '').split('\n'),
  );
  return [...spans, ...blocks];
}

/**
 * The flags a line gives a command it runs (`hookline <command> ...`, up to the next command, a comment, a
 * pipe or a bracket) that the command does not have; `--help` every command has. A `hookline` followed by no
 * command (a word of prose, `hookline help`) is not a command line.
 */
function flagsNotOfTheirCommand(line: string): string[] {
  const runs = line.matchAll(/\bhookline ([a-z]+(?: [a-z]+)?)((?:(?!\bhookline )[^;()|#])*)/g);
  return [...runs].flatMap((run) => {
    const [first = '', second = ''] = (run[1] ?? '').split(' ');
    const command =
      commands.find(({ name }) => name === `${first} ${second}`) ??
      commands.find(({ name }) => name === first);
    if (!command) return [];
    const words = (run[2] ?? '').replace(/'[^']*'|"[^"]*"/g, '').split(/\s+/);
    return words
      .filter((word) => /^--[a-z-]+$/.test(word) && word !== '--help')
      .filter(
        (flag) => !command.flags.includes(flag) && !command.flags.includes(flag.replace(/^--no-/, '--')),
      )
      .map((flag) => `${command.name} ${flag}: ${run[0]?.trim()}`);
  });
}

describe("the operator documents' command lines", () => {
  it('give each command only flags it has', () => {
    const unknown = operatorDocs.flatMap(({ file, text }) =>
      codeLines(text)
        .flatMap(flagsNotOfTheirCommand)
        .map((problem) => `${file}: ${problem}`),
    );
    expect(unknown).toEqual([]);
  });

  it('finds the command lines it checks', () => {
    expect(
      flagsNotOfTheirCommand('hookline failed show events <id> --local --nope; hookline status --yes'),
    ).toEqual([
      'failed show --nope: hookline failed show events <id> --local --nope',
      'status --yes: hookline status --yes',
    ]);
    expect(
      flagsNotOfTheirCommand("npx hookline redrive events --type 'invoice.*' --rate 50 --no-wait"),
    ).toEqual(["redrive --no-wait: hookline redrive events --type 'invoice.*' --rate 50 --no-wait"]);
  });
});

/** The TypeScript files under `dir` (relative to the repository root), with their comments removed. */
function codeUnder(dir: string): { file: string; code: string }[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => ({
      file: `${dir}/${name}`,
      code: readFileSync(join(root, dir, name), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, ''),
    }));
}

/** The variables of local mode's "Environment variables" table, `HOOKLINE_SECRET_<SOURCE>` as its prefix. */
function localModeVariables(): string[] {
  const start = localReadme.indexOf('\n## Environment variables\n');
  const end = localReadme.indexOf('\n\n', localReadme.indexOf('\n|', start) + 1);
  return [...localReadme.slice(start, end).matchAll(/^\| `(HOOKLINE_[A-Z_]+)/gm)].map((row) => row[1] ?? '');
}

describe("local mode's environment variables", () => {
  const code = [...codeUnder('lib'), ...codeUnder('bin'), ...codeUnder('lambda')];

  it('reads every HOOKLINE_ variable its README lists', () => {
    const documented = localModeVariables();
    expect(documented).toContain('HOOKLINE_DATA_DIR');
    expect(documented.filter((name) => !code.some((file) => file.code.includes(name)))).toEqual([]);
  });

  it('lists every HOOKLINE_ variable the CLI and local mode read from the environment', () => {
    const documented = localModeVariables();
    // Under `lambda/`, the functions' own variables are written by the stack (or local mode) for them to read;
    // only the state directory, which the CLI and a producer find local mode by, is the operator's.
    const operatorCode = code.filter(
      ({ file }) => !file.startsWith('lambda/') || file.endsWith('local-state.ts'),
    );
    const read = operatorCode.flatMap(({ code }) =>
      [...code.matchAll(/\benv\??\.(HOOKLINE_[A-Z_]+)/g)].map((match) => match[1] ?? ''),
    );
    expect(read).toContain('HOOKLINE_STATE_DIR');
    expect([...new Set(read)].filter((name) => !documented.includes(name))).toEqual([]);
  });
});

describe("the command reference's common options", () => {
  it('are on the commands it says, and --json on all but dev (local mode itself)', () => {
    const header = /\| Option \(every command but `(\w+)`, `(\w+)` and `(\w+)`\)/.exec(cliReadme);
    const without = header?.slice(1) ?? [];
    expect(without).toEqual(['init', 'dev', 'cost']);
    const common = ['--local', '--stack', '--region', '--config', '--json'];
    const lacking = commands
      .filter(({ name }) => !without.includes(name))
      .flatMap(({ name, flags }) =>
        common.filter((flag) => !flags.includes(flag)).map((flag) => `${name} ${flag}`),
      );
    expect(lacking).toEqual([]);
    expect(cliReadme).toContain('all but `dev` have `--json`');
    expect(commands.filter(({ flags }) => !flags.includes('--json')).map(({ name }) => name)).toEqual([
      'dev',
    ]);
  });
});

describe("local mode's events", () => {
  it('are each named in its README, as HOOKLINE_LOG=json and the journal carry them', () => {
    expect(LOCAL_EVENT_NAMES.filter((name) => !localReadme.includes(`\`${name}\``))).toEqual([]);
  });
});

describe("the command reference's --json fields", () => {
  it('names fields the results of the CLI have', () => {
    // The CLI's results, and the shared records some of them carry as they are (a breaker's circuit, a job).
    const code = [...codeUnder('lib/cli'), ...codeUnder('lambda/shared')].map((file) => file.code).join('\n');
    const named = [...cliReadme.matchAll(/`([a-zA-Z]+)`(?:, also)? in `--json`/g)].map(
      (match) => match[1] ?? '',
    );
    expect(named.length).toBeGreaterThan(20);
    const isField = (name: string) =>
      new RegExp(`(?:readonly |[{,]\\s*)${name}\\??:|[{,]\\s*${name}\\s*[,}]`).test(code);
    expect([...new Set(named)].filter((name) => !isField(name))).toEqual([]);
  });
});

describe("the documents' install commands for local mode's packages", () => {
  it("install fauxqs and dynalite at the versions hookline's package.json requires of them", () => {
    const { peerDependencies: peers } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
    };
    const packageOf = (word: string) => word.replace(/@.*$/, '');
    const installed = operatorDocs.flatMap(({ file, text }) =>
      codeLines(text)
        .filter((line) => /\bnpm (?:install|i)\b/.test(line))
        .flatMap((line) => line.split(/\s+/))
        .filter((word) => ['fauxqs', 'dynalite'].includes(packageOf(word)))
        .map((word) => ({ file, word })),
    );
    expect(new Set(installed.map(({ word }) => packageOf(word)))).toEqual(new Set(['fauxqs', 'dynalite']));
    const unpinned = installed.filter(({ word }) => word !== `${packageOf(word)}@${peers[packageOf(word)]}`);
    expect(unpinned).toEqual([]);
  });
});
