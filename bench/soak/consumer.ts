/**
 * The soak's consumer (bench/soak/soak.ts), on the real consumer runtime. Every successful run appends
 * `<id> <attempt> <epoch ms>` to `$SOAK_DIR/processed.txt`, the ground truth the soak checks counts against.
 *
 * Faults: any attempt fails with a retryable error at random, with probability SOAK_TRANSIENT_RATE (default 0.1);
 * the events whose id is permanent by {@link isPermanentFailure} fail with a PermanentError, until
 * `$SOAK_DIR/fixed` exists (the operator's fix before a redrive).
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineConsumer, PermanentError } from '../../lambda/consumer';
import { isPermanentFailure } from './ground-truth';

const dir = process.env.SOAK_DIR ?? '';
const transientRate = Number(process.env.SOAK_TRANSIENT_RATE ?? 0.1);

export const handler = defineConsumer({
  handlers: {},
  default: async (event, ctx) => {
    if (isPermanentFailure(event.id) && !existsSync(join(dir, 'fixed'))) {
      throw new PermanentError(`soak: ${event.id} fails permanently`);
    }
    if (Math.random() < transientRate) throw new Error(`soak: transient failure of ${event.id}`);
    appendFileSync(join(dir, 'processed.txt'), `${event.id} ${ctx.attempt} ${Date.now()}\n`);
  },
});
