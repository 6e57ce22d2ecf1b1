/**
 * The soak's pipeline (bench/soak/soak.ts): one HMAC source that reads each event's id and type from its body,
 * routed to one standard queue read by the soak's faulty consumer. Retries come after 1 s, and ten receives make
 * a record's dead-lettering by transient failures alone (10 % each) a one-in-ten-billion event, so the DLQ holds
 * exactly the permanent failures.
 */
import { Duration } from 'aws-cdk-lib';
import { defineConfig } from '../../lib/config';

export default defineConfig({
  stackName: 'HooklineSoak',
  sources: {
    generic: {
      type: 'hmac',
      header: 'x-signature',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
      typePath: 'type',
      idPath: 'id',
    },
  },
  queues: {
    events: {
      maxReceiveCount: 10,
      consumer: {
        entry: 'bench/soak/consumer.ts',
        timeout: Duration.seconds(10),
        batchSize: 10,
        retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
        environment: {
          SOAK_DIR: process.env.SOAK_DIR ?? '.hookline/soak',
          SOAK_TRANSIENT_RATE: process.env.SOAK_TRANSIENT_RATE ?? '0.1',
        },
      },
    },
  },
  defaultRoute: { queues: ['events'] },
});
