import { buildApp } from 'fauxqs';
import { endpointFor, LOOPBACK } from './http.js';

export interface SqsEmulator {
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface SqsEmulatorOptions {
  port: number;
  region: string;
}

/**
 * Queue URLs take this host (`http://sqs.<region>.localhost:<port>/000000000000/<name>`) so they are the same
 * whichever address a client connected on. The host does not resolve everywhere, so every client must set
 * `endpoint` (clientConfig('sqs') does); the SDK then sends to the endpoint and only reads the URL's path.
 */
const QUEUE_URL_HOST = 'localhost';

/**
 * SQS on fauxqs, in this process. fauxqs' own startFauxqs() listens on 0.0.0.0, so its app is built here and bound
 * to the loopback address instead. Its S3 and SNS routes share the port but are not used: S3 is s3rver.
 */
export async function startSqs(options: SqsEmulatorOptions): Promise<SqsEmulator> {
  const app = buildApp({ logger: false, host: QUEUE_URL_HOST, defaultRegion: options.region });
  await app.listen({ port: options.port, host: LOOPBACK });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error(`fauxqs did not bind a TCP port (got ${String(address)})`);
  }
  return {
    endpoint: endpointFor(address.port),
    // fauxqs builds fastify with forceCloseConnections and stops its long-poll timers on close.
    close: () => app.close(),
  };
}
