import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { H, type InboxPageBody } from '../../../shared/mesh/protocol.js';
import { startTestMesh, type MeshTestClient, type TestMesh } from './support.js';

const droppedConnection = (error: unknown) => {
  const code = (error as { code?: string }).code ?? '';
  assert.ok(
    ['UND_ERR_SOCKET', 'ECONNRESET', 'UND_ERR_ABORTED', 'EPIPE'].includes(code),
    `unexpected ${code}`,
  );
  return true;
};

describe('local MESH server fault injection', () => {
  let mesh: TestMesh;
  let sender: MeshTestClient;
  let recipient: MeshTestClient;
  before(async () => {
    mesh = await startTestMesh();
    sender = mesh.as('X26ABC1');
    recipient = mesh.as('X26ABC2');
  });
  after(async () => {
    await mesh.close();
  });
  beforeEach(async () => {
    await mesh.server.admin.reset();
  });

  const sendRaw = (body = 'payload') =>
    sender.call('POST', '/messageexchange/X26ABC1/outbox', {
      headers: { [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW' },
      body,
    });

  test('a status fault answers without doing the work, once by default', async () => {
    await mesh.server.admin.setFaults([
      { endpoint: 'send', action: { type: 'status', status: 503, retryAfterSeconds: 2 } },
    ]);

    const faulted = await sendRaw();
    const statsAfterFault = await mesh.server.admin.stats();
    const retried = await sendRaw();

    assert.equal(faulted.status, 503);
    assert.equal(faulted.headers['retry-after'], '2');
    assert.equal(statsAfterFault.messages.total, 0);
    assert.equal(statsAfterFault.counters.faultsFired, 1);
    assert.equal(retried.status, 202);
  });

  test('a latency fault delays the answer and then does the work', async () => {
    await mesh.server.admin.setFaults([{ endpoint: 'inbox', action: { type: 'latency', ms: 150 } }]);

    const started = performance.now();
    const res = await recipient.inbox();
    const elapsed = performance.now() - started;

    assert.equal(res.status, 200);
    assert.ok(elapsed >= 140, `took ${elapsed} ms`);
  });

  test('a request-phase reset drops the connection part way through the body and creates nothing', async () => {
    await mesh.server.admin.setFaults([
      { endpoint: 'send', action: { type: 'reset', phase: 'request', afterBytes: 10 } },
    ]);

    await assert.rejects(sendRaw('x'.repeat(100_000)), droppedConnection);

    const stats = await mesh.server.admin.stats();
    assert.equal(stats.messages.total, 0);
    assert.equal(stats.counters.sendsAccepted, 0);
  });

  test('a response-phase reset on send creates the message but the client never learns its id', async () => {
    await mesh.server.admin.setFaults([
      { endpoint: 'send', action: { type: 'reset', phase: 'response', afterBytes: 5 } },
    ]);

    await assert.rejects(sendRaw('delivered anyway'), droppedConnection);

    const inbox = (await recipient.inbox()).json<InboxPageBody>();
    assert.equal(inbox.messages.length, 1);
    assert.equal((await recipient.download(inbox.messages[0]!)).body.toString(), 'delivered anyway');
    assert.equal((await mesh.server.admin.stats()).counters.sendsAccepted, 1);
  });

  test('a response-phase reset on an empty answer drops the connection before the headers', async () => {
    const id = await sender.send('X26ABC2', 'x');
    await mesh.server.admin.setFaults([
      { endpoint: 'ack', action: { type: 'reset', phase: 'response', afterBytes: 0 } },
    ]);

    await assert.rejects(recipient.ack(id), droppedConnection);

    assert.equal((await mesh.server.admin.getMessage(id))?.status, 'acknowledged');
  });

  test('a reset can target one chunk of a download', async () => {
    const chunks = ['a', 'b'].map((c) => gzipSync(c.repeat(5000)));
    const first = await sender.call('POST', '/messageexchange/X26ABC1/outbox', {
      headers: {
        [H.to]: 'X26ABC2',
        [H.workflowId]: 'TEST_WORKFLOW',
        [H.chunkRange]: '1:2',
        'content-encoding': 'gzip',
      },
      body: chunks[0],
    });
    const id = first.json<{ message_id: string }>().message_id;
    await sender.call('POST', `/messageexchange/X26ABC1/outbox/${id}/2`, {
      headers: { [H.chunkRange]: '2:2', 'content-encoding': 'gzip' },
      body: chunks[1],
    });
    await mesh.server.admin.setFaults([
      { endpoint: 'download', chunk: 2, action: { type: 'reset', phase: 'response', afterBytes: 100 } },
    ]);

    const chunkOne = await recipient.download(id);
    await assert.rejects(recipient.download(id, 2), droppedConnection);
    const chunkTwoAgain = await recipient.download(id, 2);

    assert.equal(chunkOne.status, 206);
    assert.equal(chunkTwoAgain.body.toString(), 'b'.repeat(5000));
  });

  test('a rule for one mailbox leaves the others alone, and "always" does not run out', async () => {
    await mesh.server.admin.setFaults([
      { endpoint: '*', mailbox: 'X26ABC2', times: 'always', action: { type: 'status', status: 429 } },
    ]);

    const statuses = [
      (await recipient.inbox()).status,
      (await recipient.inbox()).status,
      (await sender.inbox()).status,
    ];

    assert.deepEqual(statuses, [429, 429, 200]);
    assert.equal((await mesh.server.admin.stats()).faultsFiredByEndpoint['inbox'], 2);
  });

  test('faults are set, listed and cleared over the admin endpoints, and bad rules are refused', async () => {
    const put = await sender.call('PUT', '/admin/faults', {
      auth: false,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        rules: [{ endpoint: 'handshake', times: 2, action: { type: 'status', status: 500 } }],
      }),
    });
    const handshake = await sender.handshake();
    const listed = await sender.call('GET', '/admin/faults', { auth: false });
    const bad = await sender.call('PUT', '/admin/faults', {
      auth: false,
      body: JSON.stringify({ rules: [{ endpoint: 'everywhere', action: { type: 'status', status: 500 } }] }),
    });
    const cleared = await sender.call('DELETE', '/admin/faults', { auth: false });
    const afterClear = await sender.handshake();

    assert.equal(put.status, 200);
    assert.equal(handshake.status, 500);
    assert.deepEqual(
      listed
        .json<{ rules: { remaining: number; fired: number }[] }>()
        .rules.map((r) => [r.remaining, r.fired]),
      [[1, 1]],
    );
    assert.equal(bad.status, 400);
    assert.equal(cleared.status, 200);
    assert.equal(afterClear.status, 200);
  });
});
