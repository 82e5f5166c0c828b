import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createConsoleHandler } from '../../../functions/console-api/handler.js';
import type { ConsoleDeps } from '../../../shared/console/deps.js';
import { UnauthenticatedError } from '../../../shared/console/errors.js';
import { userFromClaims } from '../../../shared/console/identity.js';
import { MailboxUseCases } from '../../../shared/console/mailbox-use-cases.js';
import { OperationsUseCases } from '../../../shared/console/operations-use-cases.js';
import type { AuditEntry } from '../../../shared/console/ports.js';
import type { TokenVerifier } from '../../../shared/console/token-verifier.js';
import type { InboundRecord } from '../../../shared/inbound/inbound-record.js';
import type { TransferRecord } from '../../../shared/outbound/transfer.js';
import type { MailboxRecord } from '../../../shared/registry/mailbox.js';
import { RecordingLog } from '../shared/recording-log.js';

const AT = '2026-12-03T10:00:00.000Z';
const mailbox = (id: string): MailboxRecord => ({
  id,
  routes: [],
  pollIntervalSeconds: 300,
  secretId: `mesh/${id}`,
  paused: false,
  createdAt: AT,
  updatedAt: AT,
});
const stored: InboundRecord = {
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
const accepted: TransferRecord = {
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

/** Users by token: the fake verifier stands where aws-jwt-verify does (that is tested against the local issuer). */
const USERS: Record<string, string[]> = {
  alice: ['mailbox:X26ABC1'],
  bob: ['mailbox:X26ABC2'],
  olivia: ['operators'],
};
const verifier: TokenVerifier = {
  async verify(token) {
    if (!token) throw new UnauthenticatedError('missing');
    if (token === 'expired') throw new UnauthenticatedError('expired');
    return userFromClaims({ sub: `sub-${token}`, 'cognito:username': token, groups: USERS[token] }, 'groups');
  },
};

function setup(overrides: Partial<ConsoleDeps> = {}) {
  const audit: AuditEntry[] = [];
  const signed: string[] = [];
  const queued: string[] = [];
  const deps: ConsoleDeps = {
    registry: {
      list: async () => [mailbox('X26ABC1'), mailbox('X26ABC2')],
      get: async (id) => (['X26ABC1', 'X26ABC2'].includes(id) ? mailbox(id) : undefined),
      setPaused: async (id, paused) => ({ ...mailbox(id), paused }),
      add: async () => true,
      remove: async () => true,
    },
    records: {
      transfersOf: async (id) => (id === 'X26ABC1' ? [accepted] : []),
      messagesOf: async (id) => (id === 'X26ABC2' ? [stored] : []),
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
  return { call, audit, signed, queued, log };
}

/** The API's answers as these tests read them. */
interface Answer {
  readonly error: { readonly code: string; readonly message: string; readonly problems: readonly string[] };
  readonly key: string;
  readonly url: string;
  readonly mailboxes: unknown;
}

const sendBody = JSON.stringify({ recipient: 'X26ABC2', workflowId: 'W', fileName: 'a.csv', size: 5 });

describe('the console API', () => {
  test('answers 401 without a token, and says when the session has expired', async () => {
    const { call } = setup();
    const missing = await call('GET', '/api/mailboxes');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.code, 'unauthenticated');
    const expired = await call('GET', '/api/mailboxes', { token: 'expired' });
    assert.equal(expired.status, 401);
    assert.deepEqual(expired.body.error, {
      code: 'session-expired',
      message: 'Your session has expired. Sign in again to carry on.',
      problems: [],
    });
  });

  test('lists only the mailboxes the user is granted', async () => {
    const { call } = setup();
    const { status, body } = await call('GET', '/api/mailboxes', { token: 'alice' });
    assert.equal(status, 200);
    assert.deepEqual(body, { mailboxes: [{ id: 'X26ABC1', registered: true, paused: false }] });
  });

  test("refuses another mailbox's inbox, outbox, send and download with 403 and the reason", async () => {
    const { call, signed, audit } = setup();
    for (const [method, path, body] of [
      ['GET', '/api/mailboxes/X26ABC2/inbox'],
      ['GET', '/api/mailboxes/X26ABC2/outbox'],
      ['POST', '/api/mailboxes/X26ABC2/uploads', sendBody],
      ['POST', '/api/mailboxes/X26ABC2/inbox/M1/download'],
    ] as const) {
      const answer = await call(method, path, { token: 'alice', body });
      assert.equal(answer.status, 403, path);
      assert.match(answer.body.error.message, /mailbox X26ABC2.*"mailbox:X26ABC2"/);
    }
    assert.deepEqual(signed, []);
    assert.deepEqual(audit, []);
  });

  test('signs an upload under the mailbox prefix and records who sent what', async () => {
    const { call, signed, audit } = setup();
    const { status, body } = await call('POST', '/api/mailboxes/X26ABC1/uploads', {
      token: 'alice',
      body: sendBody,
    });
    assert.equal(status, 201);
    assert.match(body.key, /^outbound\/X26ABC1\/console\//);
    assert.deepEqual(signed, [`PUT ${body.key}`]);
    assert.deepEqual(
      audit.map((a) => [a.user, a.action, a.mailboxId, a.target, a.detail]),
      [['alice', 'send', 'X26ABC1', body.key, 'to X26ABC2, workflow W, 5 bytes']],
    );
  });

  test('refuses a malformed send with every problem, and malformed JSON, before signing anything', async () => {
    const { call, signed } = setup();
    const bad = await call('POST', '/api/mailboxes/X26ABC1/uploads', {
      token: 'alice',
      body: JSON.stringify({ recipient: 'no way', workflowId: 'W', fileName: 'a.csv', size: 0 }),
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.problems, [
      'The selected file is empty: MESH does not accept an empty message',
    ]);
    const malformed = await call('POST', '/api/mailboxes/X26ABC1/uploads', { token: 'alice', body: '{' });
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.body.error.problems, ['The request body is not valid JSON.']);
    assert.deepEqual(signed, []);
  });

  test('gives a download link for a stored message, recording the download first', async () => {
    const { call, signed, audit } = setup();
    const { status, body } = await call('POST', '/api/mailboxes/X26ABC2/inbox/M1/download', { token: 'bob' });
    assert.equal(status, 200);
    assert.equal(body.url, 'https://s3/inbound/X26ABC2/W/M1/results.csv');
    assert.deepEqual(signed, ['GET inbound/X26ABC2/W/M1/results.csv']);
    assert.deepEqual(
      audit.map((a) => [a.user, a.action, a.target]),
      [['bob', 'download', 'M1']],
    );
    const missing = await call('POST', '/api/mailboxes/X26ABC2/inbox/M2/download', { token: 'bob' });
    assert.equal(missing.status, 404);
  });

  test('operations are for operators; a transfer that is not stalled is not redriven', async () => {
    const { call, queued } = setup();
    assert.equal((await call('GET', '/api/operations', { token: 'alice' })).status, 403);
    assert.equal((await call('GET', '/api/operations', { token: 'olivia' })).status, 200);
    const refused = await call('POST', `/api/operations/transfers/${accepted.transferId}/redrive`, {
      token: 'olivia',
    });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /accepted: there is nothing left to send/);
    assert.deepEqual(queued, []);
  });

  test('an unknown route is a JSON 404, and a fault is a 500 that says nothing of its cause', async () => {
    const { call } = setup();
    const unknown = await call('GET', '/api/nothing', { token: 'alice' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not-found');

    const failing = setup({
      records: {
        transfersOf: async () => {
          throw new Error('table on fire: secret detail');
        },
        messagesOf: async () => [],
        needingAttention: async () => ({ transfers: [], messages: [], backlog: {} }),
      },
    });
    const fault = await failing.call('GET', '/api/mailboxes/X26ABC1/outbox', { token: 'alice' });
    assert.equal(fault.status, 500);
    assert.doesNotMatch(JSON.stringify(fault.body), /secret detail/);
    assert.equal(failing.log.lines.filter((l) => l.message === 'console request failed').length, 1);
  });
});
