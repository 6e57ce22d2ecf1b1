/**
 * Compile-time guarantees of a job definition, checked by `tsc --noEmit` (part of `npm test`): the producer cannot
 * send a payload that does not fit the job, and the consumer's handler receives the schema's output type.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineConsumer, handleJob } from '../../../lambda/consumer';
import { defineJob, type JobInput, type JobPayload, type Producer } from '../../../lambda/producer';

const welcomeEmail = defineJob(
  'email.welcome',
  z.object({ userId: z.string(), locale: z.string().default('en') }),
  {
    queue: 'jobs',
  },
);

describe('job types', () => {
  it('infer the producer input and the consumer payload from the one schema', () => {
    expectTypeOf<JobInput<typeof welcomeEmail>>().toEqualTypeOf<{
      userId: string;
      locale?: string | undefined;
    }>();
    expectTypeOf<JobPayload<typeof welcomeEmail>>().toEqualTypeOf<{ userId: string; locale: string }>();
  });

  it('refuse a payload that does not fit the job', () => {
    const send = (producer: Producer) => {
      void producer.send(welcomeEmail, { userId: 'u1' });
      void producer.send(
        welcomeEmail,
        { userId: 'u1', locale: 'fr' },
        { id: 'welcome-u1', delay: { hours: 2 } },
      );
      // @ts-expect-error userId must be a string
      void producer.send(welcomeEmail, { userId: 42 });
      // @ts-expect-error userId is required
      void producer.send(welcomeEmail, {});
      // @ts-expect-error a batch item is checked against its own job
      void producer.sendBatch([{ job: welcomeEmail, payload: { user: 'u1' } }]);
    };
    expectTypeOf(send).toBeFunction();
  });

  it('hand the job handler the validated payload type', () => {
    const handler = defineConsumer({
      handlers: {},
      jobs: [
        handleJob(welcomeEmail, async (event) => {
          expectTypeOf(event.payload).toEqualTypeOf<{ userId: string; locale: string }>();
          // @ts-expect-error the payload has no such field
          void event.payload.email;
          return { sent: true };
        }),
      ],
    });
    expectTypeOf(handler).toBeFunction();
  });
});
