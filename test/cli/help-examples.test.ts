import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { timeOption } from '../../lib/cli/archive';
import { HELP_EXAMPLES } from '../../lib/cli/help-examples';
import { buildProgram } from '../../lib/cli/program';
import { cliHarness } from './helpers';

/** Every command that runs something, by the path typed after `hookline`. */
function leaves(group: Command, prefix = ''): Map<string, Command> {
  const found = new Map<string, Command>();
  for (const command of group.commands) {
    const path = `${prefix}${command.name()}`;
    if (command.commands.length > 0) for (const [p, c] of leaves(command, `${path} `)) found.set(p, c);
    else found.set(path, command);
  }
  return found;
}

/**
 * The `hookline` command lines of a shell line, as argv: `"$(...)"` is one word (its own line checked too), quotes
 * are removed, and a pipe, `&&` or `#` ends a command. A variable assignment before `hookline` is left out.
 */
function hooklineCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  const end = () => {
    const start = words.indexOf('hookline');
    if (start >= 0) commands.push(words.slice(start + 1));
    words = [];
  };
  const pattern = /"\$\((.*?)\)"|'([^']*)'|"([^"$]*)"|(\|\||&&|\||#.*$)|(\S+)/g;
  for (const [, inner, single, double, separator, bare] of line.matchAll(pattern)) {
    if (inner !== undefined) {
      commands.push(...hooklineCommands(inner));
      words.push('evt-1');
    } else if (separator !== undefined) end();
    else words.push(single ?? double ?? bare ?? '');
  }
  end();
  return commands;
}

describe('the examples under each --help', () => {
  const program = buildProgram(cliHarness().deps, () => {});
  const commands = leaves(program);

  it('every command has at least one, each naming that command', () => {
    for (const path of commands.keys()) {
      expect(HELP_EXAMPLES[path]?.length, path).toBeGreaterThan(0);
      for (const example of HELP_EXAMPLES[path] ?? [])
        expect(example).toMatch(new RegExp(`hookline ${path}( |$)`));
    }
    expect(Object.keys(HELP_EXAMPLES).filter((path) => !commands.has(path))).toEqual([]);
  });

  it('shows them at the end of the help, as typed', async () => {
    const h = cliHarness();
    const { runCli } = await import('../../lib/cli/program');
    expect(await runCli(['failed', 'show', '--help'], h.deps)).toBe(0);
    expect(h.stdout()).toContain(
      `\nExamples:\n  $ hookline failed show events "$(hookline failed list events --local --json | jq -r '.messages[0].id')" --local\n`,
    );
  });

  it('each runs as written: every hookline command line in it reaches its command with valid flags', async () => {
    for (const [path, examples] of Object.entries(HELP_EXAMPLES)) {
      for (const example of examples) {
        for (const argv of hooklineCommands(example)) {
          const reached: string[] = [];
          const parser = buildProgram(cliHarness().deps, () => {});
          for (const [at, command] of leaves(parser)) command.action(() => void reached.push(at));
          await parser.parseAsync(argv, { from: 'user' });
          expect(reached, `${path}: ${argv.join(' ')}`).toHaveLength(1);
          // Read by the command itself, not the parser: checked as replay reads them.
          for (const flag of ['--since', '--until']) {
            const value = argv[argv.indexOf(flag) + 1];
            if (argv.includes(flag) && value) expect(() => timeOption(flag, value, Date.now())).not.toThrow();
          }
        }
      }
    }
  });
});
