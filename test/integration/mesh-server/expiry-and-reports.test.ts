import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { H, type InboxPageBody } from '../../../shared/mesh/protocol.js';
import { startTestMesh, type MeshTestClient, type TestMesh } from './support.js';

const DAY = 86_400_000;

describe('local MESH server expiry and reports', () => {
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
    mesh.clock.offsetMs = 0;
  });

  test('expiring a message makes it undeliverable and puts a code-14 report in the sender inbox', async () => {
    const id = await sender.send('X26ABC2', 'never collected', { [H.localId]: 'exp-1', [H.subject]: 'subj' });

    const expired = await mesh.server.admin.expireMessage(id);
    const download = await recipient.download(id);
    const tracking = (await sender.track(id)).json<Record<string, unknown>>();
    const senderInbox = (await sender.inbox()).json<InboxPageBody>();
    const report = await sender.download(senderInbox.messages[0]!);

    assert.equal(download.status, 410);
    assert.deepEqual((await recipient.inbox()).json<InboxPageBody>().messages, []);
    assert.equal(tracking['status'], 'undeliverable');
    assert.equal(tracking['status_success'], false);
    assert.equal(tracking['status_code'], '14');
    assert.deepEqual(senderInbox.messages, [expired.report_id]);
    assert.equal(report.status, 200);
    assert.equal(report.body.length, 0);
    assert.deepEqual(
      Object.fromEntries(
        [
          H.messageType,
          H.linkedMessageId,
          H.statusCode,
          H.statusEvent,
          H.statusDescription,
          H.statusSuccess,
          H.workflowId,
          H.localId,
          H.subject,
          H.to,
          H.chunkRange,
        ].map((h) => [h, report.headers[h]]),
      ),
      {
        [H.messageType]: 'REPORT',
        [H.linkedMessageId]: id,
        [H.statusCode]: '14',
        [H.statusEvent]: 'SEND',
        [H.statusDescription]: 'Message not collected by recipient after 5 days',
        [H.statusSuccess]: 'ERROR',
        [H.workflowId]: 'TEST_WORKFLOW',
        [H.localId]: 'exp-1',
        [H.subject]: 'subj',
        [H.to]: 'X26ABC2',
        [H.chunkRange]: '1:0',
      },
    );
    assert.match(report.headers[H.statusTimestamp] ?? '', /^\d{14}$/);
  });

  test('acknowledges a report like a data message', async () => {
    const id = await sender.send('X26ABC2', 'x');
    const { report_id } = await mesh.server.admin.expireMessage(id);

    const ack = await sender.ack(report_id!);

    assert.equal(ack.status, 200);
    assert.deepEqual((await sender.inbox()).json<InboxPageBody>().messages, []);
  });

  test('expires only messages past their five days when asked to expire what is due', async () => {
    const old = await sender.send('X26ABC2', 'old');
    mesh.clock.offsetMs = 3 * DAY;
    const recent = await sender.send('X26ABC2', 'recent');
    mesh.clock.offsetMs = 5 * DAY + 60_000;

    const { expired } = await mesh.server.admin.expireDue();

    assert.deepEqual(expired, [old]);
    assert.equal((await mesh.server.admin.getMessage(recent))?.status, 'accepted');
  });

  test('refuses to expire a message that is no longer in the inbox', async () => {
    const id = await sender.send('X26ABC2', 'x');
    await recipient.ack(id);

    await assert.rejects(mesh.server.admin.expireMessage(id), /only accepted messages expire/);
  });

  test('delivers an arbitrary report posted to the admin endpoint', async () => {
    const id = await sender.send('X26ABC2', 'x', { [H.localId]: 'loc-9' });

    const res = await sender.call('POST', '/admin/report', {
      auth: false,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        mailbox_id: 'X26ABC1',
        code: '06',
        description: 'Malformed control file',
        workflow_id: 'TEST_WORKFLOW',
        linked_message_id: id,
      }),
    });
    const reportId = res.json<{ message_id: string }>().message_id;
    const report = await sender.call('HEAD', `/messageexchange/X26ABC1/inbox/${reportId}`);

    assert.equal(res.status, 200);
    assert.equal(report.headers[H.messageType], 'REPORT');
    assert.equal(report.headers[H.statusEvent], 'TRANSFER');
    assert.equal(report.headers[H.linkedMessageId], id);
    assert.equal(report.headers[H.localId], 'loc-9');
    assert.equal((await recipient.download(id)).status, 410);
    assert.equal((await sender.track(id)).json<{ status: string }>().status, 'error');
  });
});
