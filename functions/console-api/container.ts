import { createAwsClients, type AwsClientConfigs, type AwsClients } from '../../shared/aws/clients.js';
import { EnvReader } from '../../shared/config/env.js';
import type { ConsoleDeps } from '../../shared/console/deps.js';
import { DynamoAuditTrail } from '../../shared/console/dynamo-audit.js';
import { DynamoConsoleRecords } from '../../shared/console/dynamo-records.js';
import { MailboxUseCases } from '../../shared/console/mailbox-use-cases.js';
import { OperationsUseCases } from '../../shared/console/operations-use-cases.js';
import { s3UrlSigner } from '../../shared/console/s3-url-signer.js';
import { jwtTokenVerifier, type TokenVerifier } from '../../shared/console/token-verifier.js';
import { functionObservability } from '../../shared/observability/lambda-observability.js';
import type { Log, MetricsSink } from '../../shared/observability/ports.js';
import { s3OutboundObjects } from '../../shared/operations/aws.js';
import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { MailboxRegistry } from '../../shared/registry/mailbox-registry.js';
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
}

/**
 * Composition root of the console function: the table, the two buckets and the work queues from the wiring's
 * environment, the JWT issuer it trusts, and the SDK clients. Fails at cold start naming whatever is missing.
 */
export function createConsoleFunction(env: NodeJS.ProcessEnv, overrides: ConsoleOverrides = {}) {
  const read = new EnvReader(env);
  const tableName = read.string(ENV.tableName);
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
  const deps: ConsoleDeps = {
    registry: new MailboxRegistry(clients.dynamo, tableName, '', now),
    records: new DynamoConsoleRecords(clients.dynamo, tableName),
    transfers: new TransferStore(clients.dynamo, tableName, now),
    inbound: new InboundStore(clients.dynamo, tableName, now),
    objects: s3OutboundObjects(clients.s3, outboundBucket),
    queues: {
      enqueue: (queue, body, mailboxId) => sendForMailbox(clients.sqs, queueUrls[queue], body, mailboxId),
    },
    signer: s3UrlSigner(overrides.signingS3 ?? clients.s3, { outboundBucket, now }),
    audit: new DynamoAuditTrail(clients.dynamo, tableName, now),
    outboundBucket,
    inboundBucket,
    now,
  };
  const handler = createConsoleHandler({
    verifier: overrides.verifier ?? jwtTokenVerifier({ issuer, audience, jwksUri, groupsClaim }),
    mailboxes: new MailboxUseCases(deps),
    operations: new OperationsUseCases(deps),
    log: observability.log,
  });
  return { handler: observability.wrap(handler), close: async () => undefined };
}
