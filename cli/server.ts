import { resolve } from 'node:path';
import { DEFAULT_MESH_SERVER_CONFIG } from '../local/config/default-mesh-server.js';
import { loadMeshServerConfig, startMeshServer } from '../local/mesh-server/index.js';
import { loadOrCreateTestPki } from '../local/pki.js';
import type { Output } from './commands.js';
import { UsageError } from './errors.js';

export interface ServerFlags {
  readonly port?: string;
  readonly config?: string;
  readonly dir?: string;
  readonly http?: boolean;
}

/** Runs the local MESH server until Ctrl-C, printing how to point the CLI at it. */
export async function runServer(flags: ServerFlags, out: Output): Promise<void> {
  const port = flags.port === undefined ? 8700 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${flags.port} is not a port`);
  const config = flags.config ? await loadMeshServerConfig(flags.config) : DEFAULT_MESH_SERVER_CONFIG;
  const dir = resolve(flags.dir ?? '.local/mesh');
  const mailboxIds = config.mailboxes.map((m) => m.id);
  const { pki, paths } = await loadOrCreateTestPki(resolve(dir, 'pki'), mailboxIds);
  const server = await startMeshServer({
    ...config,
    port,
    storeDir: resolve(dir, 'store'),
    tls: flags.http ? undefined : { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
  });
  // Listening for the stop signals before the URL is printed: a script that reads the URL and at once sends
  // SIGTERM must still get a clean shutdown. A second signal stops at once.
  let signals = 0;
  const stopped = new Promise<void>((resolveStop) => {
    const stop = (signal: NodeJS.Signals) => {
      if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
      resolveStop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const first = mailboxIds[0] ?? 'X26ABC1';
  if (out.json) {
    out.result({
      url: server.url,
      mailboxes: mailboxIds,
      sharedSecret: config.sharedSecret,
      caCert: paths.caCert,
      clientCerts: Object.fromEntries(
        mailboxIds.map((m) => [m, { cert: paths.clientCert(m), key: paths.clientKey(m) }]),
      ),
    });
  } else {
    out.say(
      `local MESH server listening on ${server.url} (${flags.http ? 'plain http' : 'HTTPS with mutual TLS'})`,
    );
    out.say(`mailboxes: ${mailboxIds.join(', ')}; messages stored under ${resolve(dir, 'store')}`);
    out.say('to use it from another shell:');
    out.say(
      `  export MESH_URL=${server.url} MESH_MAILBOX=${first} MESH_PASSWORD=password MESH_SHARED_KEY=${config.sharedSecret}`,
    );
    if (!flags.http) {
      out.say(
        `  export MESH_CLIENT_CERT=${paths.clientCert(first)} MESH_CLIENT_KEY=${paths.clientKey(first)} MESH_CA_CERT=${paths.caCert}`,
      );
    }
  }
  await stopped;
  await server.close();
}
