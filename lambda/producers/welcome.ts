/**
 * Example producer: sends welcome-email jobs to the running local mode (or, deployed, to the queues its
 * function was granted with `stack.grantSend(fn, 'events')`), then reads a job's state and result.
 *
 *   npm start                                   # in one terminal
 *   npx tsx lambda/producers/welcome.ts u42     # in another
 */

import { welcomeEmail } from '../consumers/jobs';
import { createProducer } from '../producer';

const userId = process.argv[2] ?? 'u1';
const producer = createProducer();

// Keyed: however often this runs within the dedupe window, the user gets one email.
const sent = await producer.send(welcomeEmail, { userId }, { id: `welcome-${userId}` });
// Delayed: a reminder in two days becomes a one-time schedule; cancel it with producer.cancel(id).
const reminder = await producer.send(
  welcomeEmail,
  { userId, locale: 'en' },
  { id: `reminder-${userId}`, delay: { days: 2 } },
);
console.log(sent, reminder);

for (let i = 0; i < 50; i++) {
  const status = await producer.status(sent.id);
  if (status?.state === 'completed' || status?.state === 'dead-lettered') {
    console.log(status);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
