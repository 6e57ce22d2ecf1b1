/**
 * Example consumer for the `events` queue (standard): one handler per event type, a typed payload where a
 * schema is given, and a default that logs whatever else arrives. Replace the bodies with your own side effects.
 */
import { z } from 'zod';
import { defineConsumer, handleJob, PermanentError } from '../consumer';
import { welcomeEmail } from './jobs';

const githubPush = z.object({
  ref: z.string(),
  repository: z.object({ full_name: z.string() }).optional(),
  commits: z.array(z.object({ id: z.string() })).default([]),
});

const stripeEvent = z.object({
  id: z.string(),
  type: z.string(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

export const handler = defineConsumer({
  handlers: {
    'github.push': {
      schema: githubPush,
      handle: async (event, ctx) => {
        ctx.logger.info('push received', {
          repository: event.payload.repository?.full_name,
          ref: event.payload.ref,
          commits: event.payload.commits.length,
        });
      },
    },
    'stripe.invoice.*': {
      schema: stripeEvent,
      handle: async (event, ctx) => {
        if (event.payload.type !== event.type) {
          throw new PermanentError(
            `body type ${event.payload.type} does not match envelope type ${event.type}`,
          );
        }
        ctx.logger.info('invoice event', { stripeEventId: event.payload.id, attempt: ctx.attempt });
      },
    },
  },
  jobs: [
    // A job sent with hookline/producer: the payload is typed and validated by the job's schema, and the
    // returned value is kept as the job's result (`producer.status(id)`, `hookline jobs show <id>`).
    handleJob(welcomeEmail, async (event, ctx) => {
      ctx.logger.info('welcome email', { userId: event.payload.userId, locale: event.payload.locale });
      return { sentAt: new Date().toISOString() };
    }),
  ],
  default: async (event, ctx) => {
    ctx.logger.info('event received', { source: event.source, type: event.type });
  },
});
