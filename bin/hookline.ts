#!/usr/bin/env -S npx tsx
/**
 * `hookline`: the operations CLI (status, failed, redrive, purge, send, pause, resume). See lib/cli/README.md.
 */
import { runCli } from '../lib/cli/program';

process.exitCode = await runCli(process.argv.slice(2));
