import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createConsoleHandler } from '../../../functions/console-api/handler.js';
import type { ConsoleDeps } from '../../../shared/console/deps.js';
import { UnauthenticatedError } from '../../../shared/console/errors.js';
import { userFromClaims } from '../../../shared/console/identity.js';
import type { PageRequest } from '../../../shared/console/list-reader.js';
import { MailboxUseCases } from '../../../shared/console/mailbox-use-cases.js';
import { OperationsUseCases } from '../../../shared/console/operations-use-cases.js';
import type { Page } from '../../../shared/console/paging.js';
import type { AuditEntry, EndpointMatch } from '../../../shared/console/ports.js';
import { RecipientLookupUseCase } from '../../../shared/console/recipient-lookup.js';
import type { TokenVerifier } from '../../../shared/console/token-verifier.js';
import type { InboundRecord } from '../../../shared/inbound/inbound-record.js';
import type { TransferRecord } from '../../../shared/outbound/transfer.js';
import type { MailboxRecord } from '../../../shared/registry/mailbox.js';
import { RecordingLog } from '../shared/recording-log.js';

/**
 * The console API's handler built from typed fakes of its ports, and a caller that sends it API Gateway HTTP API
 * (payload 2.0) events as AWS does. The listings' paging and the DynamoDB reads are tested against the emulator
 * (test/integration/console).
 */

export const AT = '2026-12-03T10:00:00.000Z';
export const mailbox = (id: string): MailboxRecord => ({
  id,
  routes: [],
  pollIntervalSeconds: 300,
  secretId: `mesh/${id}`,
  paused: false,
  createdAt: AT,
  updatedAt: AT,
});
export const stored: InboundRecord = {
  mailboxId: 'X26ABC2',
  messageId: 'M1',
  status: 'acknowledged',
  sender: 'X26ABC1',
  fileName: 'results.csv',
  bucket: 'inbound',
  key: 'inbound/X26ABC2/W/M1/results.csv',
  size: 5,
  attempts: 1,
  createdAt: AT,
  updatedAt: AT,
};
export const accepted: TransferRecord = {
  transferId: 'b'.repeat(32),
  bucket: 'outbound',
  key: 'outbound/X26ABC1/a.csv',
  size: 5,
  status: 'accepted',
  sender: 'X26ABC1',
  chunksSent: 1,
  bytesSent: 5,
  attempts: 1,
  createdAt: AT,
  updatedAt: AT,
};

/** What the fake MESH endpoint lookup knows, by `{ODS}:{workflow}`. */
const ENDPOINTS: Record<string, EndpointMatch[]> = {
  'X26:TEST_WORKFLOW': [
    { mailboxId: 'X26ABC1', mailboxName: 'Mailbox A' },
    { mailboxId: 'X26ABC2', mailboxName: 'Mailbox B' },
  ],
};

/** One page of a short list: every record that matches (the fakes' lists never need a second page). */
export async function pageOf<R>(records: readonly R[], request: PageRequest<R>): Promise<Page<R>> {
  return { items: records.filter(request.matches) };
}

/** Users by token: the fake verifier stands where aws-jwt-verify does (that is tested against the local issuer). */
const USERS: Record<string, string[]> = {
  alice: ['mailbox:X26ABC1'],
  bob: ['mailbox:X26ABC2'],
  olivia: ['operators'],
  oscar: ['operators', 'mailbox:X26ABC1'],
};
const verifier: TokenVerifier = {
  async verify(token) {
    if (!token) throw new UnauthenticatedError('missing');
    if (token === 'expired') throw new UnauthenticatedError('expired');
    return userFromClaims({ sub: `sub-${token}`, 'cognito:username': token, groups: USERS[token] }, 'groups');
  },
};

export function setup(overrides: Partial<ConsoleDeps> = {}) {
  const audit: AuditEntry[] = [];
  const signed: string[] = [];
  const queued: string[] = [];
  const lookups: string[] = [];
  const deps: ConsoleDeps = {
    registry: {
      list: async () => [mailbox('X26ABC1'), mailbox('X26ABC2')],
      get: async (id) => (['X26ABC1', 'X26ABC2'].includes(id) ? mailbox(id) : undefined),
      setPaused: async (id, paused) => ({ ...mailbox(id), paused }),
      add: async () => true,
      remove: async () => true,
    },
    records: {
      transfersOf: async (id, request) => pageOf(id === 'X26ABC1' ? [accepted] : [], request),
      messagesOf: async (id, request) => pageOf(id === 'X26ABC2' ? [stored] : [], request),
      reportsAbout: async () => [],
      needingAttention: async () => ({ transfers: [], messages: [], backlog: {} }),
    },
    transfers: {
      get: async (id) => (id === accepted.transferId ? accepted : undefined),
      findByMessageId: async () => undefined,
      findByLocalId: async () => [],
    },
    inbound: {
      get: async (id) => (id === 'X26ABC2#M1' ? stored : undefined),
      transition: async () => undefined,
    },
    objects: { versionsOf: async () => [] },
    queues: { enqueue: async (queue, body) => void queued.push(`${queue}:${body}`) },
    signer: {
      upload: async ({ key }) => {
        signed.push(`PUT ${key}`);
        return { url: `https://s3/${key}`, method: 'PUT', headers: {}, expiresAt: AT };
      },
      download: async ({ key }) => {
        signed.push(`GET ${key}`);
        return { url: `https://s3/${key}`, expiresAt: AT };
      },
    },
    audit: {
      record: async (entry) => {
        const full = { ...entry, at: AT };
        audit.push(full);
        return full;
      },
      recent: async () => ({ entries: audit }),
    },
    endpoints: {
      find: async (asMailbox, ods, workflowId) => {
        lookups.push(`${asMailbox}:${ods}:${workflowId}`);
        return ENDPOINTS[`${ods}:${workflowId}`] ?? [];
      },
    },
    outboundBucket: 'outbound',
    inboundBucket: 'inbound',
    now: () => new Date(AT),
    ...overrides,
  };
  const log = new RecordingLog();
  const handler = createConsoleHandler({
    verifier,
    mailboxes: new MailboxUseCases(deps),
    operations: new OperationsUseCases(deps),
    recipients: new RecipientLookupUseCase(deps),
    log,
  });
  const call = async (method: string, path: string, options: { token?: string; body?: string } = {}) => {
    const [rawPath, rawQuery = ''] = path.split('?');
    const event = {
      version: '2.0',
      rawPath,
      rawQueryString: rawQuery,
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      queryStringParameters: rawQuery ? Object.fromEntries(new URLSearchParams(rawQuery)) : undefined,
      requestContext: { http: { method, path: rawPath } },
      body: options.body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const result = (await handler(event, {} as Context)) as APIGatewayProxyStructuredResultV2;
    return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') as Answer };
  };
  return { call, audit, signed, queued, lookups, log };
}

/** The API's answers as these tests read them. */
export interface Answer {
  readonly error: { readonly code: string; readonly message: string; readonly problems: readonly string[] };
  readonly key: string;
  readonly url: string;
  readonly mailboxes: unknown;
}
