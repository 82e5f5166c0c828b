import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, beforeEach, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { H, MESH_V2_ACCEPT } from '../../../shared/mesh/protocol.js';
import { startTestMesh, type MeshTestClient, type TestMesh } from './support.js';

interface ErrorBody {
  message_id?: string;
  detail: { event?: string; code?: string; msg: string; loc?: string[] }[];
}
const detail = (body: unknown) => (body as ErrorBody).detail[0]!;

/** Three pieces of plain text, each gzipped on its own as the spec asks. */
const PLAIN_CHUNKS = ['first chunk;', 'second chunk;', 'third chunk.'].map((s) => Buffer.from(s.repeat(200)));
const GZIP_CHUNKS = PLAIN_CHUNKS.map((c) => gzipSync(c));

async function startChunked(
  sender: MeshTestClient,
  to: string,
  total: number,
  first: Buffer,
): Promise<string> {
  const res = await sender.call('POST', `/messageexchange/${sender.mailbox}/outbox`, {
    headers: {
      [H.to]: to,
      [H.workflowId]: 'TEST_WORKFLOW',
      [H.chunkRange]: `1:${total}`,
      [H.contentType]: 'text/plain',
      'content-encoding': 'gzip',
    },
    body: first,
  });
  assert.equal(res.status, 202, res.body.toString());
  return res.json<{ message_id: string }>().message_id;
}

function uploadChunk(
  sender: MeshTestClient,
  id: string,
  n: number,
  range: string,
  body: Buffer,
  gzip = true,
) {
  return sender.call('POST', `/messageexchange/${sender.mailbox}/outbox/${id}/${n}`, {
    headers: {
      [H.chunkRange]: range,
      'content-type': 'application/octet-stream',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body,
  });
}

describe('local MESH server messages', () => {
  let mesh: TestMesh;
  let alice: MeshTestClient;
  let bob: MeshTestClient;
  let carol: MeshTestClient;
  before(async () => {
    mesh = await startTestMesh();
    alice = mesh.as('X26ABC1');
    bob = mesh.as('X26ABC2');
    carol = mesh.as('X26ABC3');
  });
  after(async () => {
    await mesh.close();
  });
  beforeEach(async () => {
    await mesh.server.admin.reset();
  });

  describe('send, download and acknowledge', () => {
    test('delivers a message with its metadata, then refuses it with 410 once acknowledged', async () => {
      const id = await alice.send('X26ABC2', 'hello MESH\n', {
        [H.subject]: 'greeting',
        [H.localId]: 'local-1',
        [H.fileName]: 'hello.txt',
        [H.contentChecksum]: 'md5:abc123',
        [H.contentCompressed]: 'Y',
        'content-type': 'text/plain',
      });

      const listed = await bob.inbox();
      const download = await bob.download(id);
      const ack = await bob.ack(id);
      const afterAck = await bob.download(id);
      const listedAfterAck = await bob.inbox();

      assert.match(id, /^\d{20}_[0-9A-F]{6}$/);
      assert.deepEqual(listed.json<{ messages: string[] }>().messages, [id]);
      assert.equal(download.status, 200);
      assert.equal(download.body.toString(), 'hello MESH\n');
      assert.equal(download.headers['content-type'], 'text/plain');
      assert.equal(download.headers['content-length'], '11');
      assert.ok(download.headers['etag']);
      assert.ok(download.headers['last-modified']);
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(download.headers).filter(([k]) => k.startsWith('mex-') && k !== H.statusTimestamp),
        ),
        {
          [H.from]: 'X26ABC1',
          [H.to]: 'X26ABC2',
          [H.workflowId]: 'TEST_WORKFLOW',
          [H.chunkRange]: '1:1',
          [H.totalChunks]: '1',
          [H.addressType]: 'ALL',
          [H.localId]: 'local-1',
          [H.fileName]: 'hello.txt',
          [H.subject]: 'greeting',
          [H.version]: '1.0',
          [H.messageType]: 'DATA',
          [H.messageId]: id,
          [H.contentCompressed]: 'Y',
          [H.contentChecksum]: 'md5:abc123',
          [H.contentType]: 'text/plain',
          [H.statusCode]: '00',
          [H.statusEvent]: 'TRANSFER',
          [H.statusDescription]: 'Transferred to recipient mailbox',
          [H.statusSuccess]: 'SUCCESS',
        },
      );
      assert.match(download.headers[H.statusTimestamp] ?? '', /^\d{14}$/);
      assert.equal(ack.status, 200);
      assert.equal(afterAck.status, 410);
      assert.deepEqual(listedAfterAck.json<{ messages: string[] }>().messages, []);
    });

    test('answers every JSON body as application/vnd.mesh.v2+json', async () => {
      const send = await alice.call('POST', '/messageexchange/X26ABC1/outbox', {
        headers: { [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW' },
        body: 'x',
      });
      const error = await bob.download('20250101000000000000_ABCDEF');

      assert.equal(send.headers['content-type'], MESH_V2_ACCEPT);
      assert.equal(error.headers['content-type'], MESH_V2_ACCEPT);
    });

    test('treats a repeated acknowledgement as success', async () => {
      const id = await alice.send('X26ABC2', 'x');

      const first = await bob.ack(id);
      const second = await bob.ack(id);

      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal((await mesh.server.admin.stats()).counters.acknowledgements, 1);
    });

    test('lets only the recipient download or acknowledge', async () => {
      const id = await alice.send('X26ABC2', 'for bob only');

      const download = await carol.download(id);
      const ack = await alice.ack(id);

      assert.equal(download.status, 403);
      assert.equal(ack.status, 403);
    });

    test('answers 404 code 20 for a message that does not exist', async () => {
      const res = await bob.download('20250101000000000000_ABCDEF');

      assert.equal(res.status, 404);
      assert.deepEqual(detail(res.json()), { event: 'RECEIVE', code: '20', msg: 'Message does not exist' });
    });

    test('gives the metadata on HEAD without a body', async () => {
      const id = await alice.send('X26ABC2', 'twelve bytes', { [H.localId]: 'head-me' });

      const res = await bob.call('HEAD', `/messageexchange/X26ABC2/inbox/${id}`);

      assert.equal(res.status, 200);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers[H.localId], 'head-me');
      assert.equal(res.headers['content-length'], '12');
    });
  });

  describe('chunked messages', () => {
    async function sendThreeGzipChunks(): Promise<string> {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);
      assert.equal((await uploadChunk(alice, id, 2, '2:3', GZIP_CHUNKS[1]!)).status, 202);
      assert.equal((await uploadChunk(alice, id, 3, '3:3', GZIP_CHUNKS[2]!)).status, 202);
      return id;
    }

    test('is not in the inbox until the last chunk arrives', async () => {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);
      await uploadChunk(alice, id, 2, '2:3', GZIP_CHUNKS[1]!);

      const during = await bob.inbox();
      const tracking = await alice.track(id);
      await uploadChunk(alice, id, 3, '3:3', GZIP_CHUNKS[2]!);
      const afterwards = await bob.inbox();

      assert.deepEqual(during.json<{ messages: string[] }>().messages, []);
      assert.equal(tracking.json<{ status: string }>().status, 'uploading');
      assert.deepEqual(afterwards.json<{ messages: string[] }>().messages, [id]);
    });

    test('returns each chunk gzipped as stored to a client that accepts gzip', async () => {
      const id = await sendThreeGzipChunks();

      const chunks = [
        await bob.download(id, undefined, { 'accept-encoding': 'gzip' }),
        await bob.download(id, 2, { 'accept-encoding': 'gzip' }),
        await bob.download(id, 3, { 'accept-encoding': 'gzip' }),
      ];

      assert.deepEqual(
        chunks.map((c) => [c.status, c.headers[H.chunkRange], c.headers['content-encoding']]),
        [
          [206, '1:3', 'gzip'],
          [206, '2:3', 'gzip'],
          [200, '3:3', 'gzip'],
        ],
      );
      assert.deepEqual(
        chunks.map((c) => c.body),
        GZIP_CHUNKS,
      );
      assert.deepEqual(gunzipSync(Buffer.concat(chunks.map((c) => c.body))), Buffer.concat(PLAIN_CHUNKS));
      assert.equal(chunks[0]!.headers['content-type'], 'application/octet-stream');
      assert.equal(chunks[0]!.headers[H.contentType], 'text/plain');
    });

    test('decompresses each chunk for a client that does not accept gzip', async () => {
      const id = await sendThreeGzipChunks();

      const chunks = [await bob.download(id), await bob.download(id, 2), await bob.download(id, 3)];

      assert.deepEqual(
        chunks.map((c) => c.headers['content-encoding']),
        [undefined, undefined, undefined],
      );
      assert.deepEqual(
        chunks.map((c) => c.body),
        PLAIN_CHUNKS,
      );
      // Inflated as it is sent, so its length is not announced.
      assert.deepEqual(
        chunks.map((c) => [c.headers['content-length'], c.headers['transfer-encoding']]),
        PLAIN_CHUNKS.map(() => [undefined, 'chunked']),
      );
    });

    test('sends plain chunks plain even to a client that accepts gzip', async () => {
      const id = await alice.send('X26ABC2', 'plain text');

      const res = await bob.download(id, undefined, { 'accept-encoding': 'gzip' });

      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(res.body.toString(), 'plain text');
    });

    test('answers 404 for a chunk number beyond the message', async () => {
      const id = await sendThreeGzipChunks();

      const res = await bob.download(id, 4);

      assert.equal(res.status, 404);
    });

    test('overwrites a chunk uploaded twice before the message is complete', async () => {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);
      await uploadChunk(alice, id, 2, '2:3', gzipSync('wrong'));
      await uploadChunk(alice, id, 2, '2:3', GZIP_CHUNKS[1]!);
      await uploadChunk(alice, id, 3, '3:3', GZIP_CHUNKS[2]!);

      const res = await bob.download(id, 2);

      assert.deepEqual(res.body, PLAIN_CHUNKS[1]);
    });

    test('refuses the final chunk with 417 until every earlier chunk is in', async () => {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);

      const res = await uploadChunk(alice, id, 3, '3:3', GZIP_CHUNKS[2]!);

      assert.equal(res.status, 417);
      assert.equal(detail(res.json()).code, 'InvalidHeaderChunks');
      assert.equal((await alice.track(id)).json<{ status: string }>().status, 'uploading');
    });

    test('answers 423 to a chunk uploaded after the message is complete', async () => {
      const id = await sendThreeGzipChunks();

      const res = await uploadChunk(alice, id, 2, '2:3', GZIP_CHUNKS[1]!);

      assert.equal(res.status, 423);
    });

    test('answers 406 to a chunk number greater than the chunk count', async () => {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);

      const res = await uploadChunk(alice, id, 4, '4:4', GZIP_CHUNKS[1]!);

      assert.equal(res.status, 406);
    });

    test('answers 417 InvalidHeaderChunks to a missing, malformed or mismatched mex-Chunk-Range', async () => {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);

      const statuses = [
        (
          await alice.call('POST', `/messageexchange/X26ABC1/outbox/${id}/2`, {
            body: GZIP_CHUNKS[1]!,
            headers: { 'content-encoding': 'gzip' },
          })
        ).status,
        (await uploadChunk(alice, id, 2, 'two:3', GZIP_CHUNKS[1]!)).status,
        (await uploadChunk(alice, id, 2, '3:3', GZIP_CHUNKS[1]!)).status,
        (await uploadChunk(alice, id, 2, '2:5', GZIP_CHUNKS[1]!)).status,
      ];

      assert.deepEqual(statuses, [417, 417, 417, 417]);
    });

    test('answers 417 to a first POST that claims to be a later chunk', async () => {
      const res = await alice.call('POST', '/messageexchange/X26ABC1/outbox', {
        headers: { [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW', [H.chunkRange]: '2:3' },
        body: 'x',
      });

      assert.equal(res.status, 417);
      assert.equal(detail(res.json()).code, 'InvalidHeaderChunks');
    });

    test('answers 417 when a chunk changes the content encoding', async () => {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);

      const res = await uploadChunk(alice, id, 2, '2:3', PLAIN_CHUNKS[1]!, false);

      assert.equal(res.status, 417);
      assert.equal(detail(res.json()).msg, 'cannot change content encoding');
    });

    test('answers 403 to a chunk from a mailbox other than the sender and 404 for an unknown message', async () => {
      const id = await startChunked(alice, 'X26ABC2', 3, GZIP_CHUNKS[0]!);

      const stranger = await uploadChunk(bob, id, 2, '2:3', GZIP_CHUNKS[1]!);
      const unknown = await uploadChunk(alice, '20250101000000000000_ABCDEF', 2, '2:3', GZIP_CHUNKS[1]!);

      assert.equal(stranger.status, 403);
      assert.equal(unknown.status, 404);
    });

    test('refuses a body declared gzip that is not gzip', async () => {
      const res = await alice.call('POST', '/messageexchange/X26ABC1/outbox', {
        headers: { [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW', 'content-encoding': 'gzip' },
        body: 'not gzip at all',
      });

      assert.equal(res.status, 400);
      assert.equal((await mesh.server.admin.stats()).messages.total, 0);
    });

    test('refuses a body declared gzip that is shorter than a gzip header', async () => {
      const res = await alice.call('POST', '/messageexchange/X26ABC1/outbox', {
        headers: { [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW', 'content-encoding': 'gzip' },
        body: Buffer.from([0x1f, 0x8b]),
      });

      assert.equal(res.status, 400);
      assert.equal((await mesh.server.admin.stats()).messages.total, 0);
    });
  });

  describe('send validation', () => {
    const outbox = (headers: Record<string, string>, body: string | Buffer = 'payload') =>
      alice.call('POST', '/messageexchange/X26ABC1/outbox', { headers, body });

    test('lists missing mex-To and mex-WorkflowID as FastAPI validation errors', async () => {
      const res = await outbox({});

      assert.equal(res.status, 400);
      assert.deepEqual(res.json(), {
        detail: [
          { loc: ['header', 'mex-to'], msg: 'field required', type: 'value_error.missing' },
          { loc: ['header', 'mex-workflowid'], msg: 'field required', type: 'value_error.missing' },
        ],
      });
    });

    test('answers 417 code 12 for an unregistered recipient', async () => {
      const res = await outbox({ [H.to]: 'NOSUCHBOX', [H.workflowId]: 'TEST_WORKFLOW' });

      assert.equal(res.status, 417);
      assert.deepEqual(detail(res.json()), { event: 'SEND', code: '12', msg: 'Unregistered to address' });
    });

    test('answers 417 code 02 for an empty body', async () => {
      const res = await outbox({ [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW' }, '');

      assert.equal(res.status, 417);
      assert.equal(detail(res.json()).code, '02');
    });

    test('answers 400 code 06 for a control character in a mex header or a URL as recipient', async () => {
      const tab = await outbox({ [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW', [H.subject]: 'a\tb' });
      const url = await outbox({ [H.to]: 'https://evil.example', [H.workflowId]: 'TEST_WORKFLOW' });

      assert.equal(tab.status, 400);
      assert.deepEqual(detail(tab.json()), { event: 'TRANSFER', code: '06', msg: 'MalformedControlFile' });
      assert.equal(url.status, 400);
      assert.equal(detail(url.json()).code, '06');
    });

    test('answers 400 for a checksum with characters outside letters, digits, spaces and :-/', async () => {
      const res = await outbox({
        [H.to]: 'X26ABC2',
        [H.workflowId]: 'TEST_WORKFLOW',
        [H.contentChecksum]: 'md5=abc',
      });

      assert.equal(res.status, 400);
      assert.equal(detail(res.json()).msg, 'Invalid checksum');
    });

    test('answers 422 for a Content-Encoding other than gzip', async () => {
      const res = await outbox({
        [H.to]: 'X26ABC2',
        [H.workflowId]: 'TEST_WORKFLOW',
        'content-encoding': 'br',
      });

      assert.equal(res.status, 422);
    });

    test('answers 400 for a header over its maximum length', async () => {
      const res = await outbox({
        [H.to]: 'X26ABC2',
        [H.workflowId]: 'TEST_WORKFLOW',
        [H.subject]: 's'.repeat(501),
      });

      assert.equal(res.status, 400);
      assert.deepEqual(detail(res.json()).loc, ['header', 'mex-subject']);
    });

    test('answers 413 to a body declared over 100,000,000 bytes without reading it', async () => {
      // undici refuses to send fewer bytes than it declares, so this one request goes through node:https.
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request(`${mesh.server.url}/messageexchange/X26ABC1/outbox`, {
          method: 'POST',
          cert: mesh.pki.clients['X26ABC1']!.cert,
          key: mesh.pki.clients['X26ABC1']!.key,
          ca: mesh.pki.ca.cert,
          headers: {
            accept: MESH_V2_ACCEPT,
            authorization: alice.tokens.next(),
            [H.to]: 'X26ABC2',
            [H.workflowId]: 'TEST_WORKFLOW',
            'content-length': '100000001',
          },
        });
        req.on('response', (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() });
            req.destroy();
          });
        });
        req.on('error', reject);
        req.flushHeaders();
      });

      assert.equal(status, 413);
      assert.match(detail(JSON.parse(body)).msg, /100000000 byte limit/);
    });
  });

  describe('tracking and lookups', () => {
    test('tracks a sent message with the v2 fields', async () => {
      const id = await alice.send('X26ABC2', 'track me', { [H.localId]: 'track-1', [H.fileName]: 't.txt' });

      const res = await alice.track(id);

      const body = res.json<Record<string, unknown>>();
      assert.equal(res.status, 200);
      assert.deepEqual(
        {
          message_id: body['message_id'],
          local_id: body['local_id'],
          workflow_id: body['workflow_id'],
          filename: body['filename'],
          recipient: body['recipient'],
          recipient_name: body['recipient_name'],
          recipient_ods_code: body['recipient_ods_code'],
          status: body['status'],
          status_success: body['status_success'],
          status_code: body['status_code'],
        },
        {
          message_id: id,
          local_id: 'track-1',
          workflow_id: 'TEST_WORKFLOW',
          filename: 't.txt',
          recipient: 'X26ABC2',
          recipient_name: 'Box X26ABC2',
          recipient_ods_code: 'X26',
          status: 'accepted',
          status_success: true,
          status_code: '00',
        },
      );
      const expiry =
        Date.parse(body['expiry_time'] as string) - Date.parse(body['upload_timestamp'] as string);
      assert.ok(Math.abs(expiry - 5 * 86_400_000) < 1000);
    });

    test('answers 404 when tracking a message the mailbox did not send', async () => {
      const id = await alice.send('X26ABC2', 'x');

      const res = await bob.track(id);

      assert.equal(res.status, 404);
    });

    test('answers 300 when the deprecated local id lookup matches more than one message', async () => {
      await alice.send('X26ABC2', 'one', { [H.localId]: 'dup' });
      await alice.send('X26ABC2', 'two', { [H.localId]: 'dup' });
      const single = await alice.send('X26ABC2', 'three', { [H.localId]: 'single' });

      const duplicate = await alice.call('GET', '/messageexchange/X26ABC1/outbox/tracking/dup');
      const unique = await alice.call('GET', '/messageexchange/X26ABC1/outbox/tracking/single');

      assert.equal(duplicate.status, 300);
      assert.equal(unique.status, 200);
      assert.equal(unique.json<{ messageId: string; status: string }>().messageId, single);
    });

    test('finds receiving mailboxes by ODS code and workflow, and by workflow alone, without a token', async () => {
      const byOds = await alice.call('GET', '/messageexchange/endpointlookup/X26/TEST_WORKFLOW', {
        auth: false,
      });
      const byWorkflow = await alice.call('GET', '/messageexchange/workflowsearch/TEST_WORKFLOW', {
        auth: false,
      });
      const unknown = await alice.call('GET', '/messageexchange/workflowsearch/NOPE', { auth: false });

      assert.deepEqual(byOds.json(), { results: [{ mailbox_id: 'X26ABC2', mailbox_name: 'Box X26ABC2' }] });
      assert.deepEqual(byWorkflow.json(), {
        results: [
          { mailbox_id: 'X26ABC2', mailbox_name: 'Box X26ABC2' },
          { mailbox_id: 'X26ABC3', mailbox_name: 'Box X26ABC3' },
        ],
      });
      assert.deepEqual(unknown.json(), { results: [] });
    });
  });
});

describe('local MESH server with workflow registration enforced', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startTestMesh({ enforceWorkflows: true });
  });
  after(async () => {
    await mesh.close();
  });

  test('answers 417 code 17 when the sender or recipient is not registered for the workflow', async () => {
    const client = mesh.as('X26ABC1');
    const send = (to: string, workflow: string) =>
      client.call('POST', '/messageexchange/X26ABC1/outbox', {
        headers: { [H.to]: to, [H.workflowId]: workflow },
        body: 'x',
      });

    const unregisteredSender = await send('X26ABC1', 'TEST_WORKFLOW_ACK');
    const unregisteredRecipient = await send('X26ABC1', 'TEST_WORKFLOW');
    const registered = await send('X26ABC2', 'TEST_WORKFLOW');

    assert.equal(unregisteredSender.status, 417);
    assert.equal(detail(unregisteredSender.json()).code, '17');
    assert.equal(unregisteredRecipient.status, 417);
    assert.equal(registered.status, 202);
  });
});

describe('local MESH server request size limit', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startTestMesh({ limits: { maxRequestBytes: 1024 } });
  });
  after(async () => {
    await mesh.close();
  });

  test('answers 413 when a streamed body without Content-Length grows past the limit, and stores nothing', async () => {
    async function* body() {
      for (let i = 0; i < 8; i++) yield Buffer.alloc(256, 1);
    }

    const res = await mesh.as('X26ABC1').call('POST', '/messageexchange/X26ABC1/outbox', {
      headers: { [H.to]: 'X26ABC2', [H.workflowId]: 'TEST_WORKFLOW' },
      body: body() as unknown as Buffer,
    });

    assert.equal(res.status, 413);
    assert.equal((await mesh.server.admin.stats()).messages.total, 0);
  });
});
