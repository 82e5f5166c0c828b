import { createAwsClients, type AwsClientConfigs, type AwsClients } from '../aws/clients.js';
import { resolveMeshBaseUrl, type MeshClient } from '../mesh/index.js';
import { functionObservability, type FunctionObservability } from '../observability/lambda-observability.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { meshClientProvider } from '../secrets/mesh-client-provider.js';
import { ENV } from '../wiring/pipeline.js';
import { EnvReader } from './env.js';
import { checkMailboxes, type MailboxConfig } from './mailboxes.js';

/** What tests, the local runner and the chaos run may swap in when building a function. */
export interface FunctionOverrides {
  readonly aws?: AwsClientConfigs;
  readonly clients?: AwsClients;
  readonly log?: Log;
  readonly metrics?: MetricsSink;
  readonly now?: () => Date;
  /** Wraps each mailbox's MESH client (e.g. to inject crashes). */
  readonly wrapMeshClient?: (client: MeshClient) => MeshClient;
}

export interface FunctionRuntime extends FunctionObservability {
  readonly read: EnvReader;
  readonly mailboxes: readonly MailboxConfig[];
  readonly tableName: string;
  readonly clients: AwsClients;
  meshClient(mailboxId: string): Promise<MeshClient>;
  close(): Promise<void>;
}

/**
 * The part of every composition root that is the same: MESH URL, mailboxes and table from the environment, AWS
 * clients, observability and per-mailbox MESH clients. Call `read.done()` after reading the function's own settings.
 */
export function functionRuntime(
  serviceName: string,
  env: NodeJS.ProcessEnv,
  overrides: FunctionOverrides,
): FunctionRuntime {
  const read = new EnvReader(env);
  const meshUrl = read.string(ENV.meshUrl);
  if (meshUrl) {
    try {
      resolveMeshBaseUrl(meshUrl);
    } catch (error) {
      read.problem(`${ENV.meshUrl}: ${(error as Error).message}`);
    }
  }
  const mailboxes = read.json(ENV.mailboxes, checkMailboxes);
  const tableName = read.string(ENV.tableName);
  const clients = overrides.clients ?? createAwsClients(overrides.aws);
  const observability = functionObservability(
    serviceName,
    mailboxes.map((m) => m.id),
    overrides,
  );
  const provider = meshClientProvider(meshUrl, mailboxes, clients);
  return {
    ...observability,
    read,
    mailboxes,
    tableName,
    clients,
    meshClient: async (mailboxId) => {
      const client = await provider.forMailbox(mailboxId);
      return overrides.wrapMeshClient ? overrides.wrapMeshClient(client) : client;
    },
    close: () => provider.close(),
  };
}
