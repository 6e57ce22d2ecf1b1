import { describe, expect, it } from 'vitest';
import { recordingQueue, startTestPipeline, testConfig } from '../helpers/local/pipeline';

/** Local mode's clock: a day after 2030-01-31, the day of the one-time schedules below, whatever today is. */
const AHEAD_MS = Date.parse('2030-02-01T00:00:00Z') - Date.now();

describe('configured schedules in local mode', () => {
  it('says at start that a one-time schedule whose time has passed, or a cron whose years have, will not fire, in the words synth warns with', async () => {
    const pipeline = await startTestPipeline(
      testConfig(
        { events: recordingQueue() },
        {
          schedules: [
            { name: 'launch', expression: 'at(2030-01-31T09:00:00)', queue: 'events', type: 'launch.day' },
            {
              name: 'paris',
              expression: 'at(2030-01-31T09:00:00)',
              timezone: 'Europe/Paris',
              queue: 'events',
              type: 'launch.day',
            },
            { name: 'later', expression: 'at(2030-02-01T09:00:00)', queue: 'events', type: 'launch.day' },
            { name: 'old', expression: 'cron(0 9 * * ? 2020-2029)', queue: 'events', type: 'yearly' },
          ],
        },
      ),
      { clock: () => Date.now() + AHEAD_MS },
    );
    try {
      const errors = pipeline.output
        .map((line) => JSON.parse(line) as { event?: string; message?: string })
        .filter((line) => line.event === 'error')
        .map((line) => line.message);
      expect(errors).toEqual([
        'schedule launch (schedules.0.expression): the time of the one-time schedule at(2030-01-31T09:00:00) has passed, so it will not fire again: deployed before that time, it has fired already; never deployed, EventBridge Scheduler may refuse to create it, or it never fires; local mode does not fire it. Remove the schedule from the configuration',
        'schedule paris (schedules.1.expression): the time of the one-time schedule at(2030-01-31T09:00:00) in Europe/Paris (2030-01-31T08:00:00Z) has passed, so it will not fire again: deployed before that time, it has fired already; never deployed, EventBridge Scheduler may refuse to create it, or it never fires; local mode does not fire it. Remove the schedule from the configuration',
        'schedule old (schedules.3.expression): cron(0 9 * * ? 2020-2029) matches no time from now on (its years have passed, or none of those left has its day, such as February 29 of years that are not leap years), so it will never fire, deployed or in local mode. Fix schedules.3.expression, or remove the schedule from the configuration',
      ]);
    } finally {
      await pipeline.stop();
    }
  }, 60_000);
});
