import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { AdminMessageView, MeshServerStats } from '../../../local/mesh-server/index.js';
import { type InboxPageBody } from '../../../shared/mesh/protocol.js';
import { startTestMesh, type MeshTestClient, type TestMesh } from './support.js';

describe('local MESH server admin endpoints', () => {
  let mesh: TestMesh;
  let alice: MeshTestClient;
  let bob: MeshTestClient;
  before(async () => {
    mesh = await startTestMesh();
    alice = mesh.as('X26ABC1');
    bob = mesh.as('X26ABC2');
  });
  after(async () => {
    await mesh.close();
  });
  beforeEach(async () => {
    await mesh.server.admin.reset();
  });

  const admin = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string) =>
    alice.call(method, path, { auth: false });

  test('describes one message with its status, chunks, sender and recipient', async () => {
    const id = await alice.send('X26ABC2', 'twelve bytes');

    const res = await admin('GET', `/admin/message/${id}`);
    const missing = await admin('GET', '/admin/message/20250101000000000000_ABCDEF');

    const view = res.json<AdminMessageView>();
    assert.equal(res.status, 200);
    assert.deepEqual(
      [view.status, view.sender, view.recipient, view.total_chunks, view.chunks_received, view.chunk_sizes],
      ['accepted', 'X26ABC1', 'X26ABC2', 1, 1, [12]],
    );
    assert.equal(missing.status, 404);
  });

  test('counts sends, acknowledgements and messages per mailbox', async () => {
    const id = await alice.send('X26ABC2', 'one');
    await alice.send('X26ABC2', 'two');
    await bob.ack(id);
    await bob.ack(id);

    const stats = (await admin('GET', '/admin/stats')).json<MeshServerStats>();

    assert.equal(stats.counters.sendsAccepted, 2);
    assert.equal(stats.counters.acknowledgements, 1);
    assert.equal(stats.counters.repeatedAcknowledgements, 1);
    assert.deepEqual(stats.mailboxes['X26ABC2']?.inbox, {
      uploading: 0,
      accepted: 1,
      acknowledged: 1,
      undeliverable: 0,
      error: 0,
    });
    assert.equal(stats.mailboxes['X26ABC1']?.outbox.accepted, 1);
  });

  test('resets one mailbox, leaving the others, and then everything', async () => {
    await alice.send('X26ABC2', 'to bob');
    const forCarol = await alice.send('X26ABC3', 'to carol');
    await bob.send('X26ABC3', 'bob to carol');

    const one = await admin('DELETE', '/admin/reset/X26ABC2');
    const carolAfterOne = (await mesh.as('X26ABC3').inbox()).json<InboxPageBody>();
    const all = await admin('DELETE', '/messageexchange/admin/reset');
    const carolAfterAll = (await mesh.as('X26ABC3').inbox()).json<InboxPageBody>();

    assert.equal(one.status, 200);
    assert.deepEqual(carolAfterOne.messages, [forCarol]);
    assert.equal(all.status, 200);
    assert.deepEqual(carolAfterAll.messages, []);
  });

  test('expires a message over HTTP and answers 404 for an unknown one', async () => {
    const id = await alice.send('X26ABC2', 'x');

    const res = await admin('POST', `/admin/message/${id}/expire`);
    const unknown = await admin('POST', '/admin/message/20250101000000000000_ABCDEF/expire');

    assert.equal(res.status, 200);
    assert.equal(res.json<{ message_id: string }>().message_id, id);
    assert.equal(unknown.status, 404);
  });

  test('are behind the TLS client certificate like everything else', async () => {
    await assert.rejects(mesh.as('X26ABC1', { cert: null }).call('GET', '/admin/stats', { auth: false }));
  });

  test('logs one line per request without secrets or bodies', async () => {
    const lines: object[] = [];
    const logged = await startTestMesh({ log: (line) => lines.push(line) });
    const client = logged.as('X26ABC1');
    await client.send('X26ABC2', 'secret payload');
    await logged.close();

    const text = JSON.stringify(lines);
    assert.equal(lines.length, 1);
    assert.deepEqual(Object.keys(lines[0]!).sort(), [
      'endpoint',
      'event',
      'mailbox',
      'message_id',
      'method',
      'ms',
      'status',
    ]);
    assert.doesNotMatch(text, /secret payload|NHSMESH|password/);
  });
});
