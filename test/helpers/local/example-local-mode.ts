/**
 * Local mode running the repository's example configuration (without its hourly schedule), with a state file
 * in a temporary folder so the CLI finds it (`connect({ local: true })` with `HOOKLINE_STATE_DIR`), and every
 * reporter event collected.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import exampleConfig from '../../../hookline.config';
import { type ResolvedConfig, resolveConfig } from '../../../lib/config';
import { type LocalMode, startLocalMode } from '../../../lib/local/local-mode';
import { type LocalEvent, Reporter } from '../../../lib/local/reporter';

export interface ExampleLocalMode {
  readonly local: LocalMode;
  readonly config: ResolvedConfig;
  /** The folder of the state file; the CLI's `HOOKLINE_STATE_DIR`. */
  readonly stateDir: string;
  /** Every event the reporter saw, in order. */
  readonly events: LocalEvent[];
}

/** Starts it; `name` keeps the stack name (and so the queue names) apart from other test files'. */
export async function startExampleLocalMode(name: string, buildDir: string): Promise<ExampleLocalMode> {
  const stateDir = mkdtempSync(join(tmpdir(), `hookline-${name}-`));
  const config = {
    ...resolveConfig({ ...exampleConfig, stackName: `${name}${process.pid}` }),
    schedules: [],
  };
  const events: LocalEvent[] = [];
  const reporter = new Reporter({ json: true, color: false, write: () => {} });
  reporter.subscribe((e) => events.push(e));
  const local = await startLocalMode({
    config,
    port: 0,
    stateDir,
    reporter,
    env: {},
    buildDir,
    waitTimeSeconds: 1,
  });
  return { local, config, stateDir, events };
}
