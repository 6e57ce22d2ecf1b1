import { describe, expect, it } from 'vitest';
import { recordingQueue, startTestPipeline, testConfig } from '../helpers/local/pipeline';

describe('configured schedules in local mode', () => {
  it('says at start that a one-time schedule whose time has passed will not fire, naming the field to change', async () => {
    const pipeline = await startTestPipeline(
      testConfig(
        { events: recordingQueue() },
        {
          schedules: [
            { name: 'launch', expression: 'at(2020-01-31T09:00:00)', queue: 'events', type: 'launch.day' },
            {
              name: 'paris',
              expression: 'at(2020-01-31T09:00:00)',
              timezone: 'Europe/Paris',
              queue: 'events',
              type: 'launch.day',
            },
            { name: 'later', expression: 'at(2199-01-31T09:00:00)', queue: 'events', type: 'launch.day' },
          ],
        },
      ),
    );
    try {
      const errors = pipeline.output
        .map((line) => JSON.parse(line) as { event?: string; message?: string })
        .filter((line) => line.event === 'error')
        .map((line) => line.message);
      expect(errors).toEqual([
        'schedule launch: its time at(2020-01-31T09:00:00) has passed, so local mode will not fire it; to run it, set a time in the future in schedules.0.expression, or remove the schedule',
        'schedule paris: its time at(2020-01-31T09:00:00) Europe/Paris (2020-01-31T08:00:00.000Z) has passed, so local mode will not fire it; to run it, set a time in the future in schedules.1.expression, or remove the schedule',
      ]);
    } finally {
      await pipeline.stop();
    }
  }, 60_000);
});
