import { createAwsClients, type AwsClientConfigs, type AwsClients } from '../../shared/aws/clients.js';
import { EnvReader } from '../../shared/config/env.js';
import { readMeshUrl } from '../../shared/config/function-runtime.js';
import type { ConsoleDeps } from '../../shared/console/deps.js';
import { DynamoAuditTrail } from '../../shared/console/dynamo-audit.js';
import { DynamoConsoleRecords } from '../../shared/console/dynamo-records.js';
import { MailboxUseCases } from '../../shared/console/mailbox-use-cases.js';
import { OperationsUseCases } from '../../shared/console/operations-use-cases.js';
import { meshEndpointLookup, RecipientLookupUseCase } from '../../shared/console/recipient-lookup.js';
import { s3UrlSigner } from '../../shared/console/s3-url-signer.js';
import { jwtTokenVerifier, type TokenVerifier } from '../../shared/console/token-verifier.js';
import { functionObservability } from '../../shared/observability/lambda-observability.js';
import type { Log, MetricsSink } from '../../shared/observability/ports.js';
import { s3OutboundObjects } from '../../shared/operations/aws.js';
import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import type { MeshClientOptions } from '../../shared/mesh/index.js';
import { MailboxRegistry } from '../../shared/registry/mailbox-registry.js';
import { meshClientProvider } from '../../shared/secrets/mesh-client-provider.js';
import { InboundStore } from '../../shared/state/inbound-store.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { CONSOLE_FUNCTIONS, ENV } from '../../shared/wiring/pipeline.js';
import { createConsoleHandler } from './handler.js';

export interface ConsoleOverrides {
  readonly aws?: AwsClientConfigs;
  readonly clients?: AwsClients;
  /** The S3 client that signs the browser's URLs: locally, one whose endpoint the browser can reach. */
  readonly signingS3?: AwsClients['s3'];
  readonly log?: Log;
  readonly metrics?: MetricsSink;
  readonly now?: () => Date;
  readonly verifier?: TokenVerifier;
  /** Retry and timeouts of the MESH clients the lookup uses. */
  readonly meshClientOptions?: Partial<Pick<MeshClientOptions, 'retry' | 'timeouts'>>;
}

/** At most two tries of about 12 seconds each: within API Gateway's 29 seconds, with time to answer. */
const LOOKUP_CLIENT_OPTIONS: Partial<Pick<MeshClientOptions, 'retry' | 'timeouts'>> = {
  retry: { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 1_000, maxRetryAfterMs: 2_000 },
  timeouts: { connectMs: 4_000, headersMs: 8_000, bodyMs: 8_000 },
};

/**
 * Composition root of the console function: the table, the two buckets and the work queues from the wiring's
 * environment, the JWT issuer it trusts, the MESH URL and secret prefix (the recipient lookup asks MESH as one of the
 * user's mailboxes), and the SDK clients. Fails at cold start naming whatever is missing.
 */
export function createConsoleFunction(env: NodeJS.ProcessEnv, overrides: ConsoleOverrides = {}) {
  const read = new EnvReader(env);
  const tableName = read.string(ENV.tableName);
  const meshUrl = readMeshUrl(read);
  const secretPrefix = read.string(ENV.secretPrefix);
  const outboundBucket = read.string(ENV.outboundBucket);
  const inboundBucket = read.string(ENV.inboundBucket);
  const sendQueueUrl = read.string(ENV.sendQueueUrl);
  const downloadQueueUrl = read.string(ENV.downloadQueueUrl);
  const issuer = read.string(ENV.consoleIssuer);
  const audience = read.string(ENV.consoleAudience);
  const jwksUri = read.optionalString(ENV.consoleJwksUri);
  const groupsClaim = read.optionalString(ENV.consoleGroupsClaim);
  read.done();

  const clients = overrides.clients ?? createAwsClients(overrides.aws);
  const observability = functionObservability(CONSOLE_FUNCTIONS.consoleApi.serviceName, overrides);
  const now = overrides.now ?? (() => new Date());
  const queueUrls = { send: sendQueueUrl, download: downloadQueueUrl };
  const registry = new MailboxRegistry(clients.dynamo, tableName, secretPrefix, now);
  // The MESH clients are built as every MESH-facing function builds them (from the mailbox's secret, refused outside
  // the deployment's prefix), with a short retry: a person is waiting, and API Gateway answers within 29 seconds.
  const meshClients = meshClientProvider(
    meshUrl,
    secretPrefix,
    (id) => registry.get(id),
    clients,
    overrides.meshClientOptions ?? LOOKUP_CLIENT_OPTIONS,
  );
  const deps: ConsoleDeps = {
    registry,
    records: new DynamoConsoleRecords(clients.dynamo, tableName),
    transfers: new TransferStore(clients.dynamo, tableName, now),
    inbound: new InboundStore(clients.dynamo, tableName, now),
    objects: s3OutboundObjects(clients.s3, outboundBucket),
    queues: {
      enqueue: (queue, body, mailboxId) => sendForMailbox(clients.sqs, queueUrls[queue], body, mailboxId),
    },
    signer: s3UrlSigner(overrides.signingS3 ?? clients.s3, { outboundBucket, now }),
    audit: new DynamoAuditTrail(clients.dynamo, tableName, now),
    endpoints: meshEndpointLookup((id) => meshClients.forMailbox(id), observability.log),
    outboundBucket,
    inboundBucket,
    now,
  };
  const handler = createConsoleHandler({
    verifier: overrides.verifier ?? jwtTokenVerifier({ issuer, audience, jwksUri, groupsClaim }),
    mailboxes: new MailboxUseCases(deps),
    operations: new OperationsUseCases(deps),
    recipients: new RecipientLookupUseCase(deps),
    log: observability.log,
  });
  return { handler: observability.wrap(handler), close: () => meshClients.close() };
}
