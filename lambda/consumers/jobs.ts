/**
 * Example job definitions, shared by the producer (`lambda/producers/welcome.ts`) and the `events` consumer
 * (`lambda/consumers/events.ts`): one schema types and validates the payload on both sides.
 */
import { z } from 'zod';
import { defineJob } from '../shared/job';

/** Send a user their welcome email. */
export const welcomeEmail = defineJob(
  'email.welcome',
  z.object({ userId: z.string().min(1), locale: z.enum(['en', 'fr']).default('en') }),
  { queue: 'events' },
);
