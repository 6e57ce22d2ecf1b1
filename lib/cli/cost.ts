/**
 * `hookline cost --per-month 10M`: what the configured pipeline costs per million webhooks and per month, and
 * what its exactly-once protections (dedupe, idempotency) cost within that; then the fixed part a month (alarms,
 * custom metrics, dashboard, secrets), counted in the stack synthesized in memory. Needs no AWS access: the model
 * (`lib/cost-model.ts`) prices the configuration with its defaults.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { MAX_WEBHOOK_BODY_BYTES } from '../../lambda/shared/request-limits';
import type { ResolvedConfig } from '../config';
import {
  type CostEstimate,
  costInputOf,
  costRows,
  estimateCost,
  type FixedCost,
  fixedMonthlyCost,
  fixedRows,
  MAX_HANDLER_MS_PER_RECORD,
  parseCount,
  renderCostTable,
  renderFixedTable,
} from '../cost-model';
import { lockFileMissing, projectRootOf } from '../project-root';
import { configOption, givenOnce } from './non-empty';
import { type Output, table } from './output';

/** The flags of `hookline cost`. */
export interface CostFlags {
  readonly perMonth: number;
  readonly bodyKb?: number;
  readonly recordMs?: number;
  readonly config?: string;
  readonly json?: boolean;
  readonly markdown?: boolean;
}

/** What `cost` needs from the program. */
export interface CostCommandDependencies {
  readonly loadConfig: (path?: string) => Promise<ResolvedConfig>;
  readonly makeOutput: (json: boolean) => Output;
}

const count = (value: string) => {
  const n = parseCount(value);
  if (n === undefined)
    throw new InvalidArgumentError(
      'expected a whole, positive number of webhooks such as 10M, 1.5M, 250k, 1e6 or 2500',
    );
  return n;
};
/** A number from 0 to `max`, or the error saying what is expected (`why` says where the bound comes from). */
const upTo = (max: number, unit: string, why: string) => (value: string) => {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > max) {
    throw new InvalidArgumentError(`expected a number from 0 to ${max} ${unit} (${why})`);
  }
  return n;
};
/** The largest body the ingest accepts: a larger webhook is answered 413 and never costs a message. */
const bodyKb = upTo(
  Math.floor(MAX_WEBHOOK_BODY_BYTES / 1024),
  'KB',
  'the largest webhook body hookline accepts',
);
/** A handler's time per record cannot outlast the longest Lambda timeout. */
const recordMs = upTo(MAX_HANDLER_MS_PER_RECORD, 'ms', 'the longest Lambda timeout');

/**
 * The estimate for a loaded configuration and the flags, with the fixed part of the stack it synthesizes (loaded
 * here, not with the CLI: it brings the whole stack). Where the stack cannot be built here (no lockfile, an entry
 * missing), the estimate per webhook stands and says why the fixed part is missing.
 */
export async function costOf(config: ResolvedConfig, flags: CostFlags): Promise<CostEstimate> {
  const input = costInputOf(config, {
    eventsPerMonth: flags.perMonth,
    ...(flags.bodyKb !== undefined ? { bodyBytes: Math.round(flags.bodyKb * 1024) } : {}),
    ...(flags.recordMs !== undefined ? { handlerMsPerRecord: flags.recordMs } : {}),
  });
  const fixed = await fixedPartOf(config);
  if ('fixed' in fixed) return estimateCost(input, fixed.fixed);
  const estimate = estimateCost(input);
  return { ...estimate, assumptions: [...estimate.assumptions, fixed.notPriced] };
}

/** The fixed monthly part counted in the stack the configuration makes, or why it cannot be counted here. */
async function fixedPartOf(
  config: ResolvedConfig,
): Promise<{ readonly fixed: FixedCost } | { readonly notPriced: string }> {
  const { customMetricsOf, synthesizedInventory } = await import('../stack-inventory');
  try {
    return { fixed: fixedMonthlyCost(synthesizedInventory(config), customMetricsOf(config)) };
  } catch (error) {
    const noLockFile = lockFileMissing(projectRootOf());
    const why = noLockFile
      ? `no lockfile in ${noLockFile} or a folder above it (cdk synth needs one: run npm install there)`
      : firstLine(error);
    return {
      notPriced: `not priced: the fixed part (alarms, custom metrics, dashboard, secrets): the stack could not be built here: ${why}`,
    };
  }
}

const firstLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** The table (aligned for a terminal, or Markdown for a document), then the assumptions, for a person. */
export function renderCost(output: Output, estimate: CostEstimate, markdown = false): void {
  const text = markdown ? renderCostTable(estimate) : table(costRows(estimate), output.colors);
  for (const line of text.split('\n')) output.line(line);
  output.line('');
  if (estimate.fixed) {
    const fixed = markdown
      ? renderFixedTable(estimate.fixed)
      : table(fixedRows(estimate.fixed), output.colors);
    for (const line of fixed.split('\n')) output.line(line);
    for (const note of estimate.fixed.notes) output.line(`fixed part: ${note}`);
    output.line('');
  }
  for (const assumption of estimate.assumptions) output.line(`assumes: ${assumption}`);
  // Only what the configuration has on: advice to turn off what is already off reads as if it were on.
  const on = new Set(estimate.lines.map((l) => l.toggle));
  const hints = [
    ...(on.has('dedupe') ? ['dedupe: { enabled: false } (ingest)'] : []),
    ...(on.has('idempotency') ? ['idempotency: { enabled: false } (each consumer)'] : []),
  ];
  if (hints.length > 0) output.line(`turn off: ${hints.join(', ')}`);
}

/** Adds `cost` to the program. */
export function addCostCommand(program: Command, deps: CostCommandDependencies): void {
  program
    .command('cost')
    .description('price the configured pipeline per million webhooks and per month (us-east-1 list prices)')
    .requiredOption(
      '--per-month <count>',
      'webhooks per month: 10M, 1.5M, 250k, 1e6 or a plain number',
      (value: string, previous: unknown) => count(givenOnce(value, previous)),
    )
    .option('--body-kb <kb>', 'average body size in KB (default 4)', (value: string, previous: unknown) =>
      bodyKb(givenOnce(value, previous)),
    )
    .option(
      '--record-ms <ms>',
      "your handlers' own time per record in ms (default 0); a standard queue runs up to its parallelism at once",
      (value: string, previous: unknown) => recordMs(givenOnce(value, previous)),
    )
    .addOption(configOption())
    // Two output formats at once cannot both be printed: refused rather than one dropped without a word.
    .addOption(
      new Option('--markdown', 'print the table as Markdown (for a README or a pull request)').conflicts(
        'json',
      ),
    )
    .option('--json', 'print the estimate as JSON on stdout')
    .action(async (flags: CostFlags) => {
      const output = deps.makeOutput(Boolean(flags.json));
      const config = await deps.loadConfig(flags.config);
      // Building the stack in memory takes seconds: a person waiting is told why.
      if (output.interactive)
        output.note('counting the alarms, metrics and secrets of the stack it deploys...');
      const estimate = await costOf(config, flags);
      output.result(estimate);
      if (!output.json) renderCost(output, estimate, Boolean(flags.markdown));
    });
}
