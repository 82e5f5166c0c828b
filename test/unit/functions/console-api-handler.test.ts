import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InboundRecord } from '../../../shared/inbound/inbound-record.js';
import type { TransferRecord } from '../../../shared/outbound/transfer.js';
import { accepted, mailbox, pageOf, setup, stored } from './console-api-support.js';

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

  test("refuses a transfer by id or by key, and a message's detail, of a mailbox outside the user's groups", async () => {
    const { call } = setup();
    for (const path of [
      `/api/mailboxes/X26ABC1/outbox/${accepted.transferId}`,
      `/api/mailboxes/X26ABC1/outbox/by-key?key=${encodeURIComponent(accepted.key)}`,
      '/api/mailboxes/X26ABC2/inbox/M1',
    ]) {
      const owner = path.includes('X26ABC1') ? 'X26ABC1' : 'X26ABC2';
      const stranger = owner === 'X26ABC1' ? 'bob' : 'alice';
      const answer = await call('GET', path, { token: stranger });
      assert.equal(answer.status, 403, path);
      assert.match(answer.body.error.message, new RegExp(`mailbox ${owner}.*"mailbox:${owner}"`));
      assert.doesNotMatch(JSON.stringify(answer.body), /a\.csv|results\.csv/, 'nothing of the record leaks');
    }
    // Through a mailbox they do hold, another mailbox's transfer is answered as missing, not shown.
    const throughOwn = await call('GET', `/api/mailboxes/X26ABC2/outbox/${accepted.transferId}`, {
      token: 'bob',
    });
    assert.equal(throughOwn.status, 404);
    assert.doesNotMatch(JSON.stringify(throughOwn.body), /a\.csv/);
    // The owner does see them.
    assert.equal(
      (await call('GET', `/api/mailboxes/X26ABC1/outbox/${accepted.transferId}`, { token: 'alice' })).status,
      200,
    );
    assert.equal((await call('GET', '/api/mailboxes/X26ABC2/inbox/M1', { token: 'bob' })).status, 200);
  });

  test('tells the send page whether an upload it could not confirm was stored: nothing sent, or waiting to be sent', async () => {
    const stored = 'outbound/X26ABC1/console/2026-12-03/stored.csv';
    const { call } = setup({
      objects: {
        versionsOf: async (key) =>
          key === stored ? [{ bucket: 'outbound', key, versionId: 'v1', size: 5 }] : [],
      },
    });
    const byKey = (key: string) =>
      call('GET', `/api/mailboxes/X26ABC1/outbox/by-key?key=${encodeURIComponent(key)}`, { token: 'alice' });
    const absent = await byKey('outbound/X26ABC1/console/2026-12-03/absent.csv');
    assert.equal(absent.status, 404);
    assert.equal(absent.body.error.code, 'not-stored');
    const waiting = await byKey(stored);
    assert.equal(waiting.status, 404);
    assert.equal(waiting.body.error.code, 'not-picked-up');
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

  test('shows an operator file names and subjects only of the mailboxes in their own groups', async () => {
    const stalled = (sender: string, n: string): TransferRecord => ({
      ...accepted,
      transferId: n.repeat(32),
      sender,
      key: `outbound/${sender}/referral-${sender}.csv`,
      fileName: `referral-${sender}.csv`,
      subject: `Patient of ${sender}`,
      localId: `local-${sender}`,
      sha256: 'f'.repeat(64),
      status: 'stalled',
      errorText: 'MESH did not answer',
    });
    const poisoned = (mailboxId: string): InboundRecord => ({
      ...stored,
      mailboxId,
      messageId: `P-${mailboxId}`,
      status: 'poisoned',
      fileName: `scan-${mailboxId}.pdf`,
      subject: `Scan for ${mailboxId}`,
      errorText: 'checksum mismatch',
    });
    const { call } = setup({
      records: {
        transfersOf: async (_id, request) => pageOf([], request),
        messagesOf: async (_id, request) => pageOf([], request),
        reportsAbout: async () => [],
        needingAttention: async () => ({
          transfers: [stalled('X26ABC1', 'c'), stalled('X26ABC2', 'd')],
          messages: [poisoned('X26ABC1'), poisoned('X26ABC2')],
          backlog: {},
        }),
      },
    });
    const { status, body } = await call('GET', '/api/operations', { token: 'oscar' });
    assert.equal(status, 200);
    const overview = body as unknown as {
      stalledTransfers: Record<string, unknown>[];
      poisonedMessages: Record<string, unknown>[];
    };
    const [own, other] = overview.stalledTransfers;
    assert.equal(own!.fileName, 'referral-X26ABC1.csv');
    assert.equal(own!.subject, 'Patient of X26ABC1');
    assert.deepEqual(
      [other!.transferId, other!.mailboxId, other!.status, other!.errors],
      ['d'.repeat(32), 'X26ABC2', 'stalled', ['MESH did not answer']],
    );
    const [ownMessage, otherMessage] = overview.poisonedMessages;
    assert.equal(ownMessage!.fileName, 'scan-X26ABC1.pdf');
    assert.deepEqual(
      [otherMessage!.messageId, otherMessage!.mailboxId, otherMessage!.status, otherMessage!.errors],
      ['P-X26ABC2', 'X26ABC2', 'poisoned', ['checksum mismatch']],
    );
    // Nothing that names or describes the other mailbox's files, anywhere in the answer.
    assert.doesNotMatch(
      JSON.stringify(body),
      /referral-X26ABC2|Patient of X26ABC2|local-X26ABC2|scan-X26ABC2|Scan for X26ABC2/,
    );
    // An operator with no mailbox group sees no file of any mailbox.
    const olivia = await call('GET', '/api/operations', { token: 'olivia' });
    assert.doesNotMatch(JSON.stringify(olivia.body), /referral-|Patient of|scan-|Scan for|local-X26/);
  });

  test('redrive, pause, resume and the audit trail are refused to a user who is not an operator', async () => {
    const paused: string[] = [];
    const { call, queued, audit } = setup({
      registry: {
        list: async () => [mailbox('X26ABC1'), mailbox('X26ABC2')],
        get: async (id) => mailbox(id),
        setPaused: async (id, isPaused) => {
          paused.push(id);
          return { ...mailbox(id), paused: isPaused };
        },
        add: async () => true,
        remove: async () => true,
      },
    });
    for (const [method, path] of [
      ['POST', `/api/operations/transfers/${accepted.transferId}/redrive`],
      ['POST', '/api/operations/messages/X26ABC1/M1/redrive'],
      ['POST', '/api/operations/mailboxes/X26ABC1/pause'],
      ['POST', '/api/operations/mailboxes/X26ABC1/resume'],
      ['GET', '/api/operations/audit'],
    ] as const) {
      // alice holds X26ABC1: a mailbox grant is not the operator role.
      const answer = await call(method, path, { token: 'alice', body: '{}' });
      assert.equal(answer.status, 403, path);
      assert.match(answer.body.error.message, /Operations are for operators.*"operators"/);
    }
    assert.deepEqual(queued, []);
    assert.deepEqual(paused, []);
    assert.deepEqual(audit, []);
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
        messagesOf: async (_id, request) => pageOf([], request),
        reportsAbout: async () => [],
        needingAttention: async () => ({ transfers: [], messages: [], backlog: {} }),
      },
    });
    const fault = await failing.call('GET', '/api/mailboxes/X26ABC1/outbox', { token: 'alice' });
    assert.equal(fault.status, 500);
    assert.doesNotMatch(JSON.stringify(fault.body), /secret detail/);
    assert.equal(failing.log.lines.filter((l) => l.message === 'console request failed').length, 1);
  });
});
