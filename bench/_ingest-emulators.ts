/**
 * Child process of bench/ingest.ts: runs the embedded emulators (fauxqs + dynalite, 127.0.0.1, free ports) in
 * their own process, so that their CPU work is not charged to the handler process being measured (in AWS,
 * SQS and DynamoDB run on other machines). Prints one JSON line `{ region, endpoints }` on stdout once
 * listening, then serves until its stdin closes (the parent exited or is done) or it receives SIGTERM.
 *
 * The leading underscore keeps `npm run bench` (bench/run.ts) from running it as a benchmark of its own.
 */
import { startEmulators } from '../lib/local/emulators';

const emulators = await startEmulators();
process.stdout.write(`${JSON.stringify({ region: emulators.region, endpoints: emulators.endpoints })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await emulators.stop();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
