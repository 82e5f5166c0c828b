import dynalite from 'dynalite';
import { closeServer, endpointFor, listen } from './http.js';

export interface DynamoDbEmulator {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * DynamoDB on dynalite, in memory. Tables become ACTIVE on the next tick instead of after dynalite's default 500 ms.
 * dynalite has conditional writes and GSIs but no transactions, PartiQL, streams or TTL expiry.
 */
export async function startDynamoDb(options: { port: number }): Promise<DynamoDbEmulator> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server, options.port);
  return {
    endpoint: endpointFor(port),
    close: () => closeServer(server),
  };
}
