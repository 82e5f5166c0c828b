import type { Server } from 'node:http';

/** Every emulator listens here only: nothing local should be reachable from another machine. */
export const LOOPBACK = '127.0.0.1';

/** Listens on the loopback address and resolves with the bound port (useful when `port` is 0). */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, LOOPBACK, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`expected a TCP address, got ${String(address)}`));
        return;
      }
      resolve(address.port);
    });
  });
}

/**
 * Stops accepting connections and drops the open ones. SDK clients keep sockets alive, and a test that forgot to
 * destroy its client must not be able to stop the process from exiting.
 */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

export function endpointFor(port: number): string {
  return `http://${LOOPBACK}:${port}`;
}
