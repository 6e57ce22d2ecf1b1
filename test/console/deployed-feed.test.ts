/**
 * The console's live feed of a deployed stack, with CloudWatch Logs' `FilterLogEvents` answers faked and every call
 * recorded: which windows its polls read (every page of every log group, a minute back from the last end, never
 * before the console's start), that a line read by two windows is numbered once, how it pages its lines to its
 * reader and paces its polls, and how it says a poll's failure.
 */
import type {
  CloudWatchLogsClient,
  FilteredLogEvent,
  FilterLogEventsCommand,
  FilterLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { outcomeLinesPattern, pollFailedNote } from '../../lib/cli/outcome-log-poll';
import { deployedEventFeed, FeedDeniedError } from '../../lib/console/deployed-feed';
import type { EventFeed } from '../../lib/console/feed';
import { awsError, stackTarget, testBackend } from '../cli/helpers';

const INGEST = '/aws/lambda/Ingest';
const CONSUMER = '/aws/lambda/Events';
const target = { ...stackTarget(), logGroups: { ingest: INGEST, consumers: { events: CONSUMER } } };

type Page = { readonly events?: FilteredLogEvent[]; readonly nextToken?: string };

/** A CloudWatch Logs client answering each `FilterLogEvents` with what `answer` gives for its input, every input kept. */
function recordingLogs(answer: (input: FilterLogEventsCommandInput) => Page | Error) {
  const inputs: FilterLogEventsCommandInput[] = [];
  const send = async (command: FilterLogEventsCommand) => {
    inputs.push(command.input);
    const page = answer(command.input);
    if (page instanceof Error) throw page;
    return page;
  };
  return { client: { send } as unknown as CloudWatchLogsClient, inputs };
}

/** A consumer's outcome line as CloudWatch Logs returns it. */
const outcomeLine = (timestamp: number, id: string, eventId: string | null = `ev-${id}`) => ({
  timestamp,
  ...(eventId === null ? {} : { eventId }),
  logStreamName: 'stream',
  message: JSON.stringify({
    level: 'INFO',
    message: 'record outcome',
    outcome: 'processed',
    id,
    queue: 'events',
    attempt: 1,
  }),
});

/** The failure the feed's reader is told of the last poll, or undefined when it read its lines. */
async function failureOf(feed: EventFeed): Promise<unknown> {
  try {
    return ((await feed.after(0)) as { failure?: unknown }).failure;
  } catch (error) {
    return error;
  }
}

describe('console event feed of a deployed stack: what its polls read', () => {
  it('reads every page of every log group with the outcome lines pattern, and numbers their lines in time order', async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    const logs = recordingLogs(({ logGroupName, nextToken }) => {
      if (logGroupName === INGEST && nextToken === undefined)
        return { events: [outcomeLine(start + 1, 'a')], nextToken: 'page-2' };
      if (logGroupName === INGEST) return { events: [outcomeLine(start + 4, 'd')] };
      return { events: [outcomeLine(start + 2, 'b'), outcomeLine(start + 3, 'c')] };
    });
    const feed = deployedEventFeed({ ...backend, logs: logs.client }, target);

    const page = await feed.after(0);

    expect(page.events.map((e) => [e.seq, e.id])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    const window = { startTime: start, endTime: start, filterPattern: outcomeLinesPattern() };
    expect(logs.inputs).toHaveLength(3);
    expect(logs.inputs).toEqual(
      expect.arrayContaining([
        { logGroupName: INGEST, ...window },
        { logGroupName: INGEST, ...window, nextToken: 'page-2' },
        { logGroupName: CONSUMER, ...window },
      ]),
    );
  });

  it("reads each poll from a minute before the last poll's end, never before the console started; a failed poll's time is read again", async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    let failing = false;
    const logs = recordingLogs(() =>
      failing ? Object.assign(awsError('ThrottlingException', 'Rate exceeded'), { $metadata: {} }) : {},
    );
    const feed = deployedEventFeed(
      { ...backend, logs: logs.client },
      { ...target, logGroups: { ingest: INGEST, consumers: {} } },
    );
    const poll = async () => {
      await failureOf(feed);
      await backend.clock.sleep(90_000);
    };

    await poll();
    await poll();
    failing = true;
    await poll();
    failing = false;
    await poll();

    expect(logs.inputs.map((input) => [input.startTime, input.endTime])).toEqual([
      [start, start],
      [start, start + 90_000],
      // Failed: the next poll reads that time again.
      [start + 30_000, start + 180_000],
      [start + 30_000, start + 270_000],
    ]);
  });

  it("numbers once a line at the very start of a window, which the last poll's window read too", async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    const logs = recordingLogs(() => ({ events: [outcomeLine(start, 'edge')] }));
    const feed = deployedEventFeed(
      { ...backend, logs: logs.client },
      { ...target, logGroups: { ingest: INGEST, consumers: {} } },
    );
    expect((await feed.after(0)).latest).toBe(1);
    await backend.clock.sleep(60_000);
    expect(await feed.after(1)).toEqual({ events: [], latest: 1 });
    expect(logs.inputs[1]?.startTime).toBe(start);
  });

  it('tells lines without an event id apart by their stream, time and text, and numbers each once', async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    const logs = recordingLogs(() => ({
      events: [outcomeLine(start + 1, 'x', null), outcomeLine(start + 2, 'y', null)],
    }));
    const feed = deployedEventFeed(
      { ...backend, logs: logs.client },
      { ...target, logGroups: { ingest: INGEST, consumers: {} } },
    );
    expect((await feed.after(0)).events.map((e) => e.id)).toEqual(['x', 'y']);
    await backend.clock.sleep(60_000);
    expect((await feed.after(2)).latest).toBe(2);
  });
});

describe('console event feed of a deployed stack: what its reader gets', () => {
  it('serves at most 1,000 lines a page: its reader asks again from the last it got', async () => {
    const backend = testBackend();
    const start = backend.clock.now();
    const logs = recordingLogs(() => ({
      events: Array.from({ length: 1_500 }, (_, n) => outcomeLine(start + n, `e${n}`)),
    }));
    const feed = deployedEventFeed(
      { ...backend, logs: logs.client },
      { ...target, logGroups: { ingest: INGEST, consumers: {} } },
    );
    const first = await feed.after(0);
    expect([first.events.length, first.events.at(-1)?.seq, first.latest]).toEqual([1_000, 1_000, 1_500]);
    const rest = await feed.after(1_000);
    expect([rest.events.length, rest.events[0]?.seq]).toEqual([500, 1_001]);
  });

  it('polls again once its pace has passed since the last poll, not before', async () => {
    const backend = testBackend();
    const logs = recordingLogs(() => ({}));
    const feed = deployedEventFeed(
      { ...backend, logs: logs.client },
      { ...target, logGroups: { ingest: INGEST, consumers: {} } },
    );
    await feed.after(0);
    await backend.clock.sleep(1_999);
    await feed.after(0);
    expect(logs.inputs).toHaveLength(1);
    await backend.clock.sleep(1);
    await feed.after(0);
    expect(logs.inputs).toHaveLength(2);
  });

  it('says a denial as a part it may not read, naming the action; a throttled poll in tail’s words; any other with its cause', async () => {
    const backend = testBackend();
    let answer: Error | Page = Object.assign(
      awsError('AccessDeniedException', 'User is not authorized to perform: logs:FilterLogEvents'),
      { $metadata: { httpStatusCode: 400 } },
    );
    const logs = recordingLogs(() => answer);
    const feed = deployedEventFeed(
      { ...backend, logs: logs.client },
      { ...target, logGroups: { ingest: INGEST, consumers: {} } },
    );
    const next = async () => {
      await backend.clock.sleep(2_000);
      return failureOf(feed);
    };

    const denied = await failureOf(feed);
    expect(denied).toBeInstanceOf(FeedDeniedError);
    expect((denied as Error).name).toBe('FeedDeniedError');
    expect((denied as Error).message).toContain('logs:FilterLogEvents');

    const throttling = Object.assign(awsError('ThrottlingException', 'Rate exceeded'), {
      $metadata: { httpStatusCode: 400 },
    });
    answer = throttling;
    expect((await next()) as Error).toMatchObject({ message: pollFailedNote(throttling) });

    answer = Object.assign(awsError('ServiceUnavailableException', 'down'), {
      $metadata: { httpStatusCode: 503 },
    });
    expect(((await next()) as Error).message).toMatch(/^CloudWatch Logs did not answer a poll/);

    answer = Object.assign(awsError('ResourceNotFoundException', 'The specified log group does not exist.'), {
      $metadata: { httpStatusCode: 400 },
    });
    expect(((await next()) as Error).message).toBe(
      'stack Hookline in us-east-1 has no such resource (ResourceNotFoundException: The specified log group does not exist.): it was deleted outside the stack or the stack is out of date; redeploy with npx cdk deploy',
    );

    answer = {};
    expect(await next()).toBeUndefined();
  });
});
