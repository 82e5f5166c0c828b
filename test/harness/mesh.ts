import { generateTestPki, type TestPki } from '../../local/pki.js';
import {
  startMeshServer,
  type MeshServerOptions,
  type RunningMeshServer,
} from '../../local/mesh-server/index.js';
import { MeshClient, type MeshClientOptions } from '../../shared/mesh/index.js';

export const SHARED_SECRET = 'TestKey';
export const PASSWORD = 'password';

export interface MeshHarness {
  readonly server: RunningMeshServer;
  readonly pki: TestPki;
  readonly url: string;
  /** Client options for a mailbox, over mutual TLS with the generated PKI. */
  options(mailboxId: string, overrides?: Partial<MeshClientOptions>): MeshClientOptions;
  /** A client for a mailbox; closed with the harness. */
  client(mailboxId: string, overrides?: Partial<MeshClientOptions>): MeshClient;
  close(): Promise<void>;
}

export interface MeshHarnessOptions extends Partial<
  Omit<MeshServerOptions, 'mailboxes' | 'tls' | 'sharedSecret'>
> {
  readonly mailboxes?: readonly string[];
}

/** Starts the local MESH server over HTTPS with mutual TLS, with a freshly generated test PKI. */
export async function startMeshHarness(options: MeshHarnessOptions = {}): Promise<MeshHarness> {
  const mailboxes = options.mailboxes ?? ['X26ABC1', 'X26ABC2', 'X26ABC3'];
  const pki = await generateTestPki({ mailboxes: [...mailboxes] });
  const server = await startMeshServer({
    workflows: [
      { id: 'TEST_WORKFLOW', senders: [...mailboxes], receivers: [...mailboxes] },
      { id: 'OTHER_WORKFLOW', senders: [...mailboxes], receivers: [...mailboxes] },
    ],
    ...options,
    mailboxes: mailboxes.map((id) => ({ id, password: PASSWORD, ods: 'X26', name: `Test mailbox ${id}` })),
    sharedSecret: SHARED_SECRET,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
  });
  const clients: MeshClient[] = [];
  const harness: MeshHarness = {
    server,
    pki,
    url: server.url,
    options: (mailboxId, overrides = {}) => ({
      url: server.url,
      mailboxId,
      password: PASSWORD,
      sharedSecret: SHARED_SECRET,
      tls: { cert: pki.clients[mailboxId]!.cert, key: pki.clients[mailboxId]!.key, ca: pki.ca.cert },
      retry: { baseDelayMs: 5, maxDelayMs: 50 },
      ...overrides,
    }),
    client: (mailboxId, overrides) => {
      const client = new MeshClient(harness.options(mailboxId, overrides));
      clients.push(client);
      return client;
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    },
  };
  return harness;
}
