import { createPrivateKey } from 'node:crypto';

import { MeshConfigurationError } from './errors.js';
import type { MeshTlsOptions } from './transport.js';

const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

/**
 * Reads the client key once, before any connection, so a key problem is a configuration error with the same words
 * on every OpenSSL build: what an encrypted key without a passphrase fails with during the handshake differs
 * between builds (interrupted, unsupported decoder, bad decrypt).
 */
export function assertClientKeyReadable(tls: MeshTlsOptions): void {
  if (tls.key === undefined) return;
  if (ENCRYPTED_PEM.test(tls.key) && !tls.passphrase) {
    throw new MeshConfigurationError(
      'the client private key is encrypted and no key passphrase is configured',
    );
  }
  try {
    createPrivateKey({ key: tls.key, passphrase: tls.passphrase });
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const reason =
      code === 'ERR_OSSL_BAD_DECRYPT'
        ? 'cannot be decrypted with the configured key passphrase (wrong passphrase)'
        : `cannot be read (${String(code ?? (cause as Error).message)})`;
    throw new MeshConfigurationError(`the client private key ${reason}`, { cause });
  }
}
