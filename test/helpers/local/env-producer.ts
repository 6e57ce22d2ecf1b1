/**
 * Application code that is not a Lambda function (a web server's request handler, a script): the real
 * `createProducer()`, finding its queues in the variables of its process, sends one job and reads its status, then
 * prints both as JSON. Run as a plain Node child process by the tests.
 */
import { z } from 'zod';
import { createProducer, defineJob } from '../../../lambda/producer';

const signup = defineJob('user.signup', z.object({ userId: z.string() }), { queue: 'events' });

const id = process.argv[2] ?? 'signup-1';
const producer = createProducer();
const sent = await producer.send(signup, { userId: 'u42' }, { id });
const status = await producer.status(id);
process.stdout.write(`${JSON.stringify({ sent, status })}\n`);
