import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHash } from 'node:crypto';
import { MeshClient, type MeshClientOptions } from '../mesh/index.js';
import type { MailboxConfig } from '../config/mailboxes.js';
import { parseMeshCredentials } from './mesh-credentials.js';

export interface MeshClientProviderOptions {
  /** MESH environment name or base URL. */
  readonly url: string;
  readonly mailboxes: readonly MailboxConfig[];
  /** Reads a secret's string value (Powertools Parameters caches it). */
  readonly getSecret: (secretId: string) => Promise<string | undefined>;
  readonly clientOptions?: Partial<
    Omit<MeshClientOptions, 'url' | 'mailboxId' | 'password' | 'sharedSecret' | 'tls'>
  >;
}

/**
 * One MeshClient per mailbox, kept across invocations so TLS connections are reused, and rebuilt when the
 * mailbox's secret changes (a rotated password or certificate takes effect without a redeploy).
 */
export class MeshClientProvider {
  private readonly cache = new Map<string, { fingerprint: string; client: MeshClient }>();

  constructor(private readonly options: MeshClientProviderOptions) {}

  async forMailbox(mailboxId: string): Promise<MeshClient> {
    const mailbox = this.options.mailboxes.find((m) => m.id === mailboxId);
    if (!mailbox) throw new Error(`mailbox ${mailboxId} is not configured in this deployment`);
    const raw = await this.options.getSecret(mailbox.secretId);
    const fingerprint = createHash('sha256')
      .update(raw ?? '')
      .digest('hex');
    const cached = this.cache.get(mailboxId);
    if (cached?.fingerprint === fingerprint) return cached.client;
    const credentials = parseMeshCredentials(mailbox.secretId, raw);
    const client = new MeshClient({
      ...this.options.clientOptions,
      url: this.options.url,
      mailboxId,
      password: credentials.password,
      sharedSecret: credentials.sharedSecret,
      tls: {
        cert: credentials.clientCert,
        key: credentials.clientKey,
        passphrase: credentials.clientKeyPassphrase,
        ca: credentials.caCert,
      },
    });
    this.cache.set(mailboxId, { fingerprint, client });
    // The old client's connections close in the background; a failure to close them is of no consequence.
    cached?.client.close().catch(() => undefined);
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.cache.values()].map((c) => c.client.close()));
    this.cache.clear();
  }
}

/** The usual provider in a function: secrets through Powertools Parameters, cached for five minutes. */
export function meshClientProvider(
  url: string,
  mailboxes: readonly MailboxConfig[],
  clients: { readonly secrets: SecretsManagerClient },
): MeshClientProvider {
  const secrets = new SecretsProvider({ awsSdkV3Client: clients.secrets });
  return new MeshClientProvider({
    url,
    mailboxes,
    getSecret: async (id) => (await secrets.get(id, { maxAge: 300 })) as string | undefined,
  });
}
