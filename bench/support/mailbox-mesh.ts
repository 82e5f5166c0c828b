import { join } from 'node:path';
import {
  startMeshServer,
  type MeshServerAdmin,
  type MeshServerLogLine,
  type MeshServerOptions,
} from '../../local/mesh-server/index.js';
import { loadOrCreateTestPki } from '../../local/pki.js';
import type { RemoteMailbox } from '../../local/pipeline/config.js';
import { startMeshServerProcess } from './mesh-server-process.js';

/** Where the mailboxes benchmark runs its MESH server: in a process of its own (the default), or beside the rest. */
export type MeshPlacement = 'process' | 'in-process';

export interface BenchMeshOptions {
  readonly placement: MeshPlacement;
  /** PKI files are cached here between runs (a thousand client certificates take a while to issue). */
  readonly pkiDir: string;
  readonly mailboxes: MeshServerOptions['mailboxes'];
  readonly workflows: NonNullable<MeshServerOptions['workflows']>;
  readonly sharedSecret: string;
  /** Every request the server answers, with the time it finished by this machine's clock. */
  readonly onRequest: (line: MeshServerLogLine, atMs: number) => void;
}

/** The benchmark's MESH server, wherever it runs, and the credentials the pipeline uses for its mailboxes. */
export interface BenchMesh {
  readonly url: string;
  readonly admin: MeshServerAdmin;
  /** Every mailbox, as the pipeline's `remote` option takes them: the pipeline reaches the server over HTTPS. */
  readonly mailboxes: readonly RemoteMailbox[];
  /** CPU the server has used, in ms, when it has a process of its own (else 0: it is counted with the bench's). */
  cpuMs(): number;
  close(): Promise<void>;
}

/**
 * Starts the MESH server for the mailboxes benchmark. In a process of its own it has the machine's second core to
 * itself, as MESH has its own machines: the TLS handshakes of a thousand mailboxes' polls and the listing of their
 * inboxes then no longer take turns with the functions and the AWS emulators on one event loop. Its log lines and
 * admin operations come over IPC (mesh-server-process.ts).
 */
export async function startBenchMesh(options: BenchMeshOptions): Promise<BenchMesh> {
  const ids = options.mailboxes.map((m) => m.id.toUpperCase());
  const { pki } = await loadOrCreateTestPki(options.pkiDir, ids);
  const serverOptions = {
    mailboxes: options.mailboxes,
    workflows: options.workflows,
    sharedSecret: options.sharedSecret,
    port: 0,
    // In memory: what is measured is the pipeline, not the local MESH server's disk (see BENCHMARKS.md).
    storeDir: undefined,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
  };
  const server =
    options.placement === 'process'
      ? await startMeshServerProcess(serverOptions, { onLog: options.onRequest })
      : await startInProcess(serverOptions, options.onRequest);
  const passwords = new Map(options.mailboxes.map((m) => [m.id.toUpperCase(), m.password]));
  return {
    url: server.url,
    admin: server.admin,
    mailboxes: ids.map((id) => ({
      id,
      routes: [],
      credentials: {
        password: passwords.get(id)!,
        sharedSecret: options.sharedSecret,
        clientCert: pki.clients[id]!.cert,
        clientKey: pki.clients[id]!.key,
        caCert: pki.ca.cert,
      },
    })),
    cpuMs: () => ('cpuMs' in server ? server.cpuMs() : 0),
    close: () => server.close(),
  };
}

async function startInProcess(
  options: Omit<MeshServerOptions, 'log'>,
  onRequest: BenchMeshOptions['onRequest'],
) {
  return startMeshServer({ ...options, log: (line) => onRequest(line, Date.now()) });
}

/** Joins the benchmark's data directory and its PKI folder (kept apart from `npm start`'s `.local/pki`). */
export function benchPkiDir(dataDir: string): string {
  return join(dataDir, 'pki');
}
