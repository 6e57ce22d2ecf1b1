import { createServer } from 'node:net';

/**
 * A port nothing listens on right now, chosen by the system, for a test that must name its port before it
 * starts something there. Never a fixed number: other runs of the suite share the machine.
 */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
