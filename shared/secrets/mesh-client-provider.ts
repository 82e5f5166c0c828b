import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHash } from 'node:crypto';
import { MeshClient, type MeshClientOptions } from '../mesh/index.js';
import type { MailboxRecord } from '../registry/mailbox.js';
import { parseMeshCredentials, type MeshCredentials } from './mesh-credentials.js';

export interface MeshClientProviderOptions {
  /** MESH environment name or base URL. */
  readonly url: string;
  /** The deployment's secret prefix: a mailbox whose secret lies elsewhere is refused. */
  readonly secretPrefix: string;
  /** The mailbox's registry record, if it is registered. */
  readonly mailbox: (mailboxId: string) => Promise<Pick<MailboxRecord, 'id' | 'secretId'> | undefined>;
  /** Reads a secret's string value (Powertools Parameters caches it). */
  readonly getSecret: (secretId: string) => Promise<string | undefined>;
  readonly clientOptions?: Partial<
    Omit<MeshClientOptions, 'url' | 'mailboxId' | 'password' | 'sharedSecret' | 'tls'>
  >;
}

/** The mailbox is not in this deployment's registry, or its secret is outside the deployment's prefix. */
export class MailboxNotServedError extends Error {
  constructor(
    readonly mailboxId: string,
    reason: string,
  ) {
    super(`mailbox ${mailboxId} ${reason}`);
    this.name = 'MailboxNotServedError';
  }
}

/**
 * One MeshClient per mailbox, kept across invocations so TLS connections are reused, and rebuilt when the
 * mailbox's secret changes (a rotated password or certificate takes effect without a redeploy).
 */
export class MeshClientProvider {
  private readonly cache = new Map<string, { fingerprint: string; client: MeshClient }>();

  constructor(private readonly options: MeshClientProviderOptions) {}

  /** The mailbox's credentials, read from its secret (refused for a mailbox not served). */
  async credentials(mailboxId: string): Promise<MeshCredentials> {
    const { secretId, raw } = await this.readSecret(mailboxId);
    return parseMeshCredentials(secretId, raw);
  }

  async forMailbox(mailboxId: string): Promise<MeshClient> {
    const { secretId, raw } = await this.readSecret(mailboxId);
    const fingerprint = createHash('sha256')
      .update(raw ?? '')
      .digest('hex');
    const cached = this.cache.get(mailboxId);
    if (cached?.fingerprint === fingerprint) return cached.client;
    const credentials = parseMeshCredentials(secretId, raw);
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

  private async readSecret(mailboxId: string): Promise<{ secretId: string; raw: string | undefined }> {
    const mailbox = await this.options.mailbox(mailboxId);
    if (!mailbox) throw new MailboxNotServedError(mailboxId, 'is not in the mailbox registry');
    if (!mailbox.secretId.startsWith(this.options.secretPrefix)) {
      throw new MailboxNotServedError(
        mailboxId,
        `has secret ${mailbox.secretId}, outside this deployment's prefix ${this.options.secretPrefix}`,
      );
    }
    return { secretId: mailbox.secretId, raw: await this.options.getSecret(mailbox.secretId) };
  }
}

/** The usual provider in a function: secrets through Powertools Parameters, cached for five minutes. */
export function meshClientProvider(
  url: string,
  secretPrefix: string,
  mailbox: MeshClientProviderOptions['mailbox'],
  clients: { readonly secrets: SecretsManagerClient },
  clientOptions?: MeshClientProviderOptions['clientOptions'],
  maxAgeSeconds = 300,
): MeshClientProvider {
  const secrets = new SecretsProvider({ awsSdkV3Client: clients.secrets });
  return new MeshClientProvider({
    url,
    secretPrefix,
    mailbox,
    getSecret: async (id) => (await secrets.get(id, { maxAge: maxAgeSeconds })) as string | undefined,
    clientOptions,
  });
}
