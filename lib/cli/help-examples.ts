/**
 * The examples each command's `--help` ends with, by the command's path (`failed list`). Each is a command line as
 * typed in a shell, against the example configuration (queue `events`, source `github`) and its local mode where
 * the command has one; an id comes from the command that lists it, through `--json` and jq, so the line runs as
 * written (`forward secret` needs a queue that forwards, which the example configuration has not).
 * test/cli/help-examples.test.ts parses every one with the real program.
 */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  status: ['hookline status --local', "hookline status events --stack Hookline --json | jq '.queues[0]'"],
  'failed list': ['hookline failed list events --local --limit 5'],
  'failed summary': ['hookline failed summary events --local'],
  'failed show': [
    `hookline failed show events "$(hookline failed list events --local --json | jq -r '.messages[0].id')" --local`,
  ],
  'failed save': ['hookline failed save events --local --out dead-letters-events.jsonl'],
  'failed restore': ['hookline failed restore events dead-letters-events.jsonl --local'],
  'failed delete': [
    `hookline failed delete events --failure "$(hookline failed summary events --local --json | jq -r '.groups[0].key')" --local --yes`,
  ],
  redrive: [
    'hookline redrive events --local',
    `hookline redrive events --failure "$(hookline failed summary events --local --json | jq -r '.groups[0].key')" --limit 10 --local`,
  ],
  replay: [
    'hookline replay --source github --since 2h --dry-run --local',
    "hookline replay --source stripe --type 'invoice.*' --since 2026-11-30 --until 2026-12-01 --rate 50",
  ],
  trace: [`hookline trace "$(hookline send github --local --json | jq -r .id)" --local`],
  tail: [
    'hookline tail --local',
    "hookline tail --outcome failed --type 'invoice.**' --since 15m --json | jq -r '[.at, .id, .error] | @tsv'",
  ],
  purge: ['hookline purge events --dlq --local --yes'],
  send: ['hookline send github --local', 'hookline send stripe --type invoice.paid --local --json'],
  'jobs show': [`hookline jobs show "$(hookline jobs list --local --json | jq -r '.jobs[0].id')" --local`],
  'jobs cancel': [
    `hookline jobs cancel "$(hookline jobs list --state scheduled --local --json | jq -r '.jobs[0].id')" --local`,
    "hookline jobs cancel --type 'email.*' --tenant acct_42 --local   # says what matches; --yes cancels it",
    'hookline jobs cancel --queue events --state scheduled --yes --local',
  ],
  'jobs list': [
    'hookline jobs list --state dead-lettered --local',
    'hookline jobs list --queue events --json',
  ],
  'secrets set': [
    'printf %s "$GITHUB_WEBHOOK_SECRET" | hookline secrets set github --stack Hookline',
    'printf %s "$NEW_SECRET" | hookline secrets set github --add',
  ],
  'forward secret': ['hookline forward secret partner --local   # partner: a queue with consumer.forward'],
  console: ['hookline console --local', 'hookline console --stack Hookline --no-open --port 8080'],
  pause: ['hookline pause events --local'],
  resume: ['hookline resume events --local'],
  init: ['hookline init my-hooks && cd my-hooks && npm install && npm start'],
  dev: ['hookline dev', 'HOOKLINE_DATA_DIR=.hookline/data hookline dev   # messages kept across restarts'],
  cost: ['hookline cost --per-month 10M', 'hookline cost --per-month 250k --body-kb 8 --json'],
};

/** The `Examples:` section of a command's help, or nothing for a command without examples. */
export function examplesHelp(path: string): string {
  const examples = HELP_EXAMPLES[path];
  if (!examples?.length) return '';
  return `\nExamples:\n${examples.map((example) => `  $ ${example}`).join('\n')}\n`;
}
