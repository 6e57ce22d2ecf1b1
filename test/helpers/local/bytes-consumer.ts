/**
 * A consumer for the payload fidelity test in local mode, built on the real consumer runtime: every event's exact
 * bytes (`bodyBytes`) are hashed and appended as a JSON line `{ id, sha256, bodyEncoding }` to
 * `<HOOKLINE_TEST_RECORD_FILE>.bytes`; an event whose id starts with `dlq-` is then dead-lettered on purpose.
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { bodyBytes, defineConsumer, PermanentError } from '../../../lambda/consumer';

const recordFile = process.env.HOOKLINE_TEST_RECORD_FILE;

export const handler = defineConsumer({
  handlers: {},
  default: async (event) => {
    if (!recordFile) throw new Error('HOOKLINE_TEST_RECORD_FILE is not set');
    const sha256 = createHash('sha256').update(bodyBytes(event)).digest('hex');
    appendFileSync(
      `${recordFile}.bytes`,
      `${JSON.stringify({ id: event.id, sha256, bodyEncoding: event.bodyEncoding })}\n`,
    );
    if (event.id.startsWith('dlq-')) throw new PermanentError('dead-lettered for the fidelity test');
  },
});
