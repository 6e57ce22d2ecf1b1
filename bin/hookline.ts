#!/usr/bin/env -S npx tsx
/**
 * `hookline`: the operations CLI (status, failed, redrive, purge, send, pause, resume). See lib/cli/README.md.
 */
import { CLOSED_PIPE_EXIT_CODE, watchClosedPipes } from '../lib/cli/output';
import { runCli } from '../lib/cli/program';

const pipes = watchClosedPipes([process.stdout, process.stderr]);
const code = await runCli(process.argv.slice(2));
process.exitCode = pipes.closed ? CLOSED_PIPE_EXIT_CODE : code;
