#!/usr/bin/env -S npx tsx
/**
 * `hookline`: the operations CLI (status, failed, redrive, purge, send, pause, resume, console). See lib/cli/README.md.
 */
import { CLOSED_PIPE_EXIT_CODE, watchClosedPipes } from '../lib/cli/output';
import { runCli } from '../lib/cli/program';

const pipes = watchClosedPipes([process.stdout, process.stderr]);
// The EPIPE error event can trail the command's last write, so the status is decided at exit.
process.once('exit', () => {
  if (pipes.closed) process.exitCode = CLOSED_PIPE_EXIT_CODE;
});
process.exitCode = await runCli(process.argv.slice(2));
