import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AuthTokenGenerator,
  computeAuthHmac,
  formatAuthHeader,
  meshTimestamp,
} from '../../../shared/mesh/auth.js';
import { generateCa, issueClientCert } from '../../../local/pki.js';
import { H } from '../../../shared/mesh/protocol.js';
import { HANDSHAKE_HEADERS, PASSWORD, SHARED_SECRET, startTestMesh, type TestMesh } from './support.js';

const HOUR = 3_600_000;
const msg = (body: { detail: { msg: string }[] }) => body.detail[0]?.msg;

function tokenAt(mailbox: string, at: Date, password = PASSWORD): string {
  return new AuthTokenGenerator(mailbox, password, SHARED_SECRET, () => at).next();
}

describe('local MESH server authentication', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startTestMesh();
  });
  after(async () => {
    await mesh.close();
  });

  test('answers a handshake with a fresh token with 200 and no body', async () => {
    const res = await mesh.as('X26ABC1').handshake();

    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
  });

  test('refuses a handshake without the client and OS headers, naming each one', async () => {
    const res = await mesh.as('X26ABC1').handshake({ [H.osName]: 'Linux' });

    assert.equal(res.status, 400);
    assert.deepEqual(res.json(), {
      detail: [
        { loc: ['header', H.clientVersion], msg: 'field required', type: 'value_error.missing' },
        { loc: ['header', H.osVersion], msg: 'field required', type: 'value_error.missing' },
      ],
    });
  });

  test('refuses a token signed with the wrong password', async () => {
    const res = await mesh.as('X26ABC1', { password: 'not-the-password' }).handshake();

    assert.equal(res.status, 403);
    assert.equal(msg(res.json()), 'Invalid Authentication Token');
  });

  test('refuses a token signed with the wrong shared secret', async () => {
    const res = await mesh.as('X26ABC1', { sharedSecret: 'Banana' }).handshake();

    assert.equal(res.status, 403);
    assert.equal(msg(res.json()), 'Invalid Authentication Token');
  });

  test('refuses a token that has already been used', async () => {
    const client = mesh.as('X26ABC1');
    const token = client.tokens.next();

    const first = await client.call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: token,
    });
    const replay = await client.call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: token,
    });

    assert.equal(first.status, 200);
    assert.equal(replay.status, 403);
    assert.equal(msg(replay.json()), 'Error Duplicated Authentication Token');
  });

  test('refuses tokens more than two hours behind or ahead of the server clock', async () => {
    const client = mesh.as('X26ABC1');
    const now = mesh.clock.now().getTime();

    const stale = await client.call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: tokenAt('X26ABC1', new Date(now - 2 * HOUR - 2 * 60_000)),
    });
    const early = await client.call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: tokenAt('X26ABC1', new Date(now + 2 * HOUR + 2 * 60_000)),
    });
    const withinWindow = await client.call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: tokenAt('X26ABC1', new Date(now - 2 * HOUR + 2 * 60_000)),
    });

    assert.equal(stale.status, 403);
    assert.equal(early.status, 403);
    assert.match(msg(stale.json()) ?? '', /within 2 hours/);
    assert.equal(withinWindow.status, 200);
  });

  test('refuses a token for a mailbox other than the one in the path', async () => {
    const res = await mesh.as('X26ABC2').call('POST', '/messageexchange/X26ABC2', {
      headers: HANDSHAKE_HEADERS,
      auth: tokenAt('X26ABC1', mesh.clock.now()),
    });

    assert.equal(res.status, 403);
    assert.equal(msg(res.json()), 'Mailbox id does not match token');
  });

  test('refuses a token whose mailbox id is in lowercase', async () => {
    const parts = {
      mailboxId: 'x26abc1',
      nonce: randomUUID(),
      nonceCount: 0,
      timestamp: meshTimestamp(new Date()),
    };
    const header = formatAuthHeader(parts, computeAuthHmac(parts, PASSWORD, SHARED_SECRET));

    const res = await mesh.as('X26ABC1').call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: header,
    });

    assert.equal(res.status, 403);
    assert.equal(msg(res.json()), 'Mailbox id does not match token');
  });

  test('refuses a request without an Authorization header, or with an unreadable one', async () => {
    const client = mesh.as('X26ABC1');

    const missing = await client.call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: false,
    });
    const garbled = await client.call('POST', '/messageexchange/X26ABC1', {
      headers: HANDSHAKE_HEADERS,
      auth: 'NHSMESH X26ABC1:only:three',
    });

    assert.equal(missing.status, 403);
    assert.equal(garbled.status, 403);
    assert.equal(msg(garbled.json()), 'Error reading from Authorization header');
  });

  test('refuses a mailbox the server does not know', async () => {
    const cert = await issueClientCert(mesh.pki.ca, 'NOSUCH1');

    const res = await mesh.as('NOSUCH1', { cert }).handshake();

    assert.equal(res.status, 403);
    assert.deepEqual(res.json(), { detail: [{ event: 'SEND', code: 'EPL-151', msg: 'No mailbox matched' }] });
  });

  test('accepts the mailbox in the path in any case, as MESH uppercases it', async () => {
    const client = mesh.as('X26ABC1');

    const res = await client.call('POST', '/messageexchange/x26abc1', { headers: HANDSHAKE_HEADERS });

    assert.equal(res.status, 200);
  });

  test('answers 400 to a malformed vnd.mesh Accept header and 406 to a v1 one', async () => {
    const client = mesh.as('X26ABC1');

    const malformed = await client.call('GET', '/messageexchange/X26ABC1/inbox', {
      headers: { accept: 'application/vnd.mesh.v2' },
    });
    const v1 = await client.call('GET', '/messageexchange/X26ABC1/inbox', {
      headers: { accept: 'application/json' },
    });

    assert.equal(malformed.status, 400);
    assert.equal(msg(malformed.json()), 'Accept header api format incorrect');
    assert.equal(v1.status, 406);
  });

  test('answers the ping endpoints without a token', async () => {
    const client = mesh.as('X26ABC1');

    const ping = await client.call('GET', '/messageexchange/_ping', { auth: false });
    const health = await client.call('GET', '/health', { auth: false });

    assert.equal(ping.status, 200);
    assert.equal(health.status, 200);
    assert.equal(ping.json<{ status: string }>().status, 'running');
  });
});

describe('local MESH server mutual TLS', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startTestMesh();
  });
  after(async () => {
    await mesh.close();
  });

  const refusedAtTls = (error: unknown) => {
    assert.equal((error as { code?: string }).code, 'UND_ERR_SOCKET');
    return true;
  };

  test('refuses a connection without a client certificate', async () => {
    const bare = mesh.as('X26ABC1', { cert: null });

    await assert.rejects(bare.handshake(), refusedAtTls);
  });

  test('refuses a client certificate from a CA it does not trust', async () => {
    const stranger = await issueClientCert(await generateCa('Unknown CA'), 'X26ABC1');

    await assert.rejects(mesh.as('X26ABC1', { cert: stranger }).handshake(), refusedAtTls);
  });

  test('refuses an expired client certificate', async () => {
    const expired = await issueClientCert(mesh.pki.ca, 'X26ABC1', {
      notBefore: new Date(Date.now() - 10 * 24 * HOUR),
      notAfter: new Date(Date.now() - 24 * HOUR),
    });

    await assert.rejects(mesh.as('X26ABC1', { cert: expired }).handshake(), refusedAtTls);
  });

  test('answers 403 to a valid token presented with another mailbox certificate', async () => {
    const res = await mesh.as('X26ABC1', { cert: mesh.pki.clients['X26ABC2'] }).handshake();

    assert.equal(res.status, 403);
    assert.equal(msg(res.json()), 'Client certificate is not issued to this mailbox');
  });
});
