import { createAwsClients, type AwsClientConfigs, type AwsClients } from '../aws/clients.js';
import { resolveMeshBaseUrl, type MeshClient, type MeshClientOptions } from '../mesh/index.js';
import { functionObservability, type FunctionObservability } from '../observability/lambda-observability.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { MailboxDirectory } from '../registry/mailbox-directory.js';
import { MailboxRegistry } from '../registry/mailbox-registry.js';
import { meshClientProvider } from '../secrets/mesh-client-provider.js';
import type { MeshCredentials } from '../secrets/mesh-credentials.js';
import { ENV, FUNCTIONS, TUNING, type FunctionName } from '../wiring/pipeline.js';
import { EnvReader } from './env.js';

/** What tests, the local runner and the chaos run may swap in when building a function. */
export interface FunctionOverrides {
  readonly aws?: AwsClientConfigs;
  readonly clients?: AwsClients;
  readonly log?: Log;
  readonly metrics?: MetricsSink;
  readonly now?: () => Date;
  /** Wraps each mailbox's MESH client (e.g. to inject crashes). */
  readonly wrapMeshClient?: (client: MeshClient) => MeshClient;
  /** Retry and timeout tuning of the MESH clients, e.g. shorter backoff in tests. */
  readonly meshClientOptions?: Partial<Pick<MeshClientOptions, 'retry' | 'timeouts'>>;
}

export interface FunctionRuntime extends FunctionObservability {
  readonly read: EnvReader;
  readonly tableName: string;
  readonly clients: AwsClients;
  readonly registry: MailboxRegistry;
  /** The registry as this function last read it (TUNING.registryCacheSeconds). */
  readonly mailboxes: MailboxDirectory;
  /** The mailbox's MESH client, from its secret under SECRET_PREFIX; refused for a mailbox not registered. */
  meshClient(mailboxId: string): Promise<MeshClient>;
  /** The mailbox's credentials from its secret (the health check reads the certificate's expiry). */
  credentials(mailboxId: string): Promise<MeshCredentials>;
  close(): Promise<void>;
}

/**
 * MESH_URL, checked as the MESH clients will resolve it, so that a wrong one is reported at cold start with every
 * other problem of the environment rather than at the first MESH call.
 */
export function readMeshUrl(read: EnvReader): string {
  const meshUrl = read.string(ENV.meshUrl);
  if (meshUrl) {
    try {
      resolveMeshBaseUrl(meshUrl);
    } catch (error) {
      read.problem(`${ENV.meshUrl}: ${(error as Error).message}`);
    }
  }
  return meshUrl;
}

/**
 * The part of every MESH-facing composition root that is the same: MESH URL, table, registry and secret prefix
 * from the environment, AWS clients, observability and per-mailbox MESH clients. Call `read.done()` after reading
 * the function's own settings.
 */
export function functionRuntime(
  name: FunctionName,
  env: NodeJS.ProcessEnv,
  overrides: FunctionOverrides,
): FunctionRuntime {
  const read = new EnvReader(env, name);
  const meshUrl = readMeshUrl(read);
  const tableName = read.string(ENV.tableName);
  const secretPrefix = read.string(ENV.secretPrefix);
  const cacheSeconds = read.setting(TUNING.registryCacheSeconds);
  const secretMaxAgeSeconds = read.setting(TUNING.secretCacheSeconds);
  const clients = overrides.clients ?? createAwsClients(overrides.aws);
  const observability = functionObservability(FUNCTIONS[name].serviceName, overrides);
  const now = overrides.now ?? (() => new Date());
  const registry = new MailboxRegistry(clients.dynamo, tableName, secretPrefix, now);
  const mailboxes = new MailboxDirectory(
    () => registry.list(),
    cacheSeconds * 1000,
    () => now().getTime(),
    (id) => registry.get(id),
  );
  const provider = meshClientProvider(
    meshUrl,
    secretPrefix,
    (id) => mailboxes.get(id),
    clients,
    overrides.meshClientOptions,
    secretMaxAgeSeconds,
  );
  return {
    ...observability,
    read,
    tableName,
    clients,
    registry,
    mailboxes,
    meshClient: async (mailboxId) => {
      const client = await provider.forMailbox(mailboxId);
      return overrides.wrapMeshClient ? overrides.wrapMeshClient(client) : client;
    },
    credentials: (mailboxId) => provider.credentials(mailboxId),
    close: () => provider.close(),
  };
}
