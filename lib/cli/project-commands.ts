/**
 * The project commands: `hookline init` scaffolds a project, `hookline dev` runs the one in the working
 * directory locally. Both load their modules on first use, so the other commands start without them.
 */
import type { Command } from 'commander';
import { CliError } from './errors';
import { configOption, nonEmpty } from './non-empty';
import type { CliDependencies } from './program';

/** Adds `init` and `dev` to the program. */
export function addProjectCommands(program: Command, deps: CliDependencies): void {
  program
    .command('init')
    .description(
      'create a working hookline project (configuration, consumer, test, CDK app) in dir (default: here)',
    )
    .argument('[dir]', 'folder to create the project in', '.')
    .option(
      '--hookline <spec>',
      'the hookline dependency to write: a version range, or a tarball path from here',
      nonEmpty,
    )
    .option('--json', 'print what was written as JSON on stdout')
    .action(async (dir: string, o: { hookline?: string; json?: boolean }) => {
      const { initProject } = await import('./init');
      const result = initProject(dir, o.hookline ? { hooklineSpec: o.hookline } : {});
      if (!result.ok) {
        const problem =
          result.existing[0] === '.'
            ? 'is a file, not a folder'
            : `already has ${result.existing.join(', ')}`;
        // Thrown as every command's failure is, so --json gets its {"error"} document too.
        throw new CliError(`${result.dir} ${problem}; nothing was written (choose an empty folder)`);
      }
      if (o.json) {
        const { dir: created, written, nextSteps } = result;
        deps.writeOut(`${JSON.stringify({ dir: created, written, nextSteps }, null, 2)}\n`);
        return;
      }
      deps.writeOut(
        `created ${result.written.length} files in ${result.dir}\nnext: ${result.nextSteps.join(' && ')}\n`,
      );
    });

  program
    .command('dev')
    .description('run the pipeline of the project in this folder on this machine (local mode, npm start)')
    .addOption(configOption())
    .action(async (o: { config?: string }) => {
      const { assertLocalPrerequisites, runLocalMode } = await import('../local/dev');
      try {
        assertLocalPrerequisites();
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      const { untilStoppedOrUnread } = await import('./output');
      // Local mode owns the process until it is stopped; its exit code ends it (141 after a closed pipe).
      process.exit(await runLocalMode(o.config, undefined, untilStoppedOrUnread()));
    });
}
