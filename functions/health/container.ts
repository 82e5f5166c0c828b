import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { Context } from 'aws-lambda';
import { EnvReader } from '../../shared/config/env.js';
import { checkMailboxes } from '../../shared/config/mailboxes.js';
import { HealthCheck, type MailboxMetrics } from '../../shared/health/health-check.js';
import type { MeshClientOptions } from '../../shared/mesh/index.js';
import { MAILBOX_DIMENSION } from '../../shared/observability/metric-names.js';
import { createLogger, createMetrics, logPort } from '../../shared/observability/powertools.js';
import type { Log } from '../../shared/observability/ports.js';
import { parseMeshCredentials } from '../../shared/secrets/mesh-credentials.js';
import { MeshClientProvider } from '../../shared/secrets/mesh-client-provider.js';
import { ENV, FUNCTIONS } from '../../shared/wiring/pipeline.js';
import { createHealthHandler } from './handler.js';

const SERVICE = FUNCTIONS.health.serviceName;
/** Long enough for the credentials read and the client build to share one Secrets Manager call. */
const SECRET_MAX_AGE_SECONDS = 60;

export interface HealthFunctionOverrides {
  readonly secretsManager?: SecretsManagerClientConfig;
  readonly log?: Log;
  readonly metrics?: MailboxMetrics;
  readonly now?: () => Date;
  /** Retry and timeout tuning of the MESH client, e.g. shorter backoff in tests. */
  readonly meshClientOptions?: Partial<Pick<MeshClientOptions, 'retry' | 'timeouts'>>;
}

/** Composition root of the health function: reads configuration once, naming every problem, and wires the check. */
export function createHealthFunction(env: NodeJS.ProcessEnv, overrides: HealthFunctionOverrides = {}) {
  const read = new EnvReader(env);
  const meshUrl = read.string(ENV.meshUrl);
  const mailboxes = read.json(ENV.mailboxes, checkMailboxes);
  read.done();

  const logger = overrides.log ? undefined : createLogger(SERVICE);
  const log = overrides.log ?? logPort(logger!);
  const secrets = new SecretsProvider({
    awsSdkV3Client: new SecretsManagerClient({ maxAttempts: 5, ...overrides.secretsManager }),
  });
  const getSecret = async (secretId: string) =>
    (await secrets.get(secretId, { maxAge: SECRET_MAX_AGE_SECONDS })) as string | undefined;
  const meshClients = new MeshClientProvider({
    url: meshUrl,
    mailboxes,
    getSecret,
    clientOptions: overrides.meshClientOptions,
  });
  const secretIdOf = new Map(mailboxes.map((m) => [m.id, m.secretId]));
  const check = new HealthCheck({
    credentials: async (mailboxId) => {
      const secretId = secretIdOf.get(mailboxId) ?? mailboxId;
      return parseMeshCredentials(secretId, await getSecret(secretId));
    },
    handshake: async (mailboxId, signal) => (await meshClients.forMailbox(mailboxId)).handshake(signal),
    metrics: overrides.metrics ?? powertoolsMailboxMetrics(createMetrics(SERVICE)),
    log,
    now: overrides.now,
  });
  const handler = createHealthHandler(
    check,
    mailboxes.map((m) => m.id),
    log,
  );
  return {
    handler: async (event: unknown, context: Context) => {
      logger?.addContext(context);
      return handler(event, context);
    },
    close: () => meshClients.close(),
  };
}

/**
 * Each figure is flushed at once as its own EMF document with the `Mailbox` dimension beside Powertools' `service`
 * dimension: the alarms select on both.
 */
function powertoolsMailboxMetrics(metrics: Metrics): MailboxMetrics {
  return {
    add: (mailboxId, name, unit, value) => {
      const single = metrics.singleMetric();
      single.addDimension(MAILBOX_DIMENSION, mailboxId);
      single.addMetric(name, MetricUnit[unit], value);
    },
  };
}
