/**
 * Preloaded with `--import` after tsx: sends this process a SIGINT as the module whose URL ends with
 * `HOOKLINE_TEST_INTERRUPT_ON_LOAD` is loaded, so a test can press Ctrl-C at one exact point of start-up.
 */
import { registerHooks } from 'node:module';

const target = process.env.HOOKLINE_TEST_INTERRUPT_ON_LOAD;
let sent = false;
if (target) {
  registerHooks({
    load(url, context, nextLoad) {
      if (!sent && url.endsWith(target)) {
        sent = true;
        process.kill(process.pid, 'SIGINT');
      }
      return nextLoad(url, context);
    },
  });
}
