/**
 * A consumer with a bug that a test can switch on and off: while `<HOOKLINE_TEST_RECORD_FILE>.bug` exists,
 * `order.discounted` events are processed wrongly (recorded as `wrong`) and `test.fragile` events fail. Every
 * run appends `<id> <right|wrong> <replay id or ->` to the record file.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { defineConsumer } from '../../../lambda/consumer';

const recordFile = process.env.HOOKLINE_TEST_RECORD_FILE ?? '';
const buggy = () => existsSync(`${recordFile}.bug`);

function record(event: { id: string; replay?: { id: string } | undefined }, verdict: string): void {
  appendFileSync(recordFile, `${event.id} ${verdict} ${event.replay?.id ?? '-'}\n`);
}

export const handler = defineConsumer({
  handlers: {
    '*.test.fragile': async (event) => {
      if (buggy()) throw new Error(`bug: cannot handle ${event.id}`);
      record(event, 'right');
    },
  },
  default: async (event) => {
    record(event, buggy() && event.type === 'order.discounted' ? 'wrong' : 'right');
  },
});
