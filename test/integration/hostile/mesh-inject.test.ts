/** The local MESH server's admin-only way to put a hostile message in an inbox, as the corpus relies on it. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestMesh, type TestMesh } from '../mesh-server/support.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('local MESH server: admin inject of hostile messages', () => {
  let mesh: TestMesh;
  before(async () => {
    mesh = await startTestMesh();
  });
  after(async () => {
    await mesh.close();
  });

  async function injectOverHttp(body: unknown) {
    return mesh.as('X26ABC2').call('POST', '/admin/inject', {
      auth: false,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  test('serves the stored bytes and headers exactly as injected, which the send path would refuse', async () => {
    const injected = await injectOverHttp({
      recipient: 'X26ABC2',
      headers: { 'mex-FileName': 'caf\u00e9\u202E.txt', 'mex-subject': null },
      content_encoding: 'gzip',
      chunks: [b64('not gzip at all')],
    });
    const messageId = injected.json<{ message_id: string }>().message_id;

    const download = await mesh.as('X26ABC2').download(messageId, undefined, { 'accept-encoding': 'gzip' });

    assert.equal(injected.status, 200);
    assert.equal(download.status, 200);
    assert.equal(download.body.toString(), 'not gzip at all');
    assert.equal(download.headers['content-encoding'], 'gzip');
    assert.equal(
      download.headers['mex-filename'],
      Buffer.from('caf\u00e9\u202E.txt', 'utf8').toString('latin1'),
      'the UTF-8 bytes, as a client reading latin-1 sees them',
    );
    assert.equal(download.headers['mex-subject'], undefined);
    assert.equal((await mesh.server.admin.getMessage(messageId))?.status, 'accepted');
  });

  test('lets HEAD and each chunk download claim different chunk ranges', async () => {
    const { message_id: messageId } = await mesh.server.admin.injectMessage({
      recipient: 'X26ABC2',
      claimed_total_chunks: 1,
      chunk_headers: [{ 'mex-chunk-range': '1:5' }],
      chunks: [b64('one'), b64('two')],
    });

    const head = await mesh.as('X26ABC2').call('HEAD', `/messageexchange/X26ABC2/inbox/${messageId}`);
    const first = await mesh.as('X26ABC2').download(messageId);
    const second = await mesh.as('X26ABC2').download(messageId, 2);

    assert.equal(head.headers['mex-chunk-range'], '1:1');
    assert.equal(first.headers['mex-chunk-range'], '1:5');
    assert.equal(second.headers['mex-chunk-range'], '2:1');
    assert.equal(second.body.toString(), 'two');
  });

  test('refuses a malformed request, naming every problem', async () => {
    const res = await injectOverHttp({
      message_type: 'LETTER',
      headers: { 'bad name': 'x' },
      chunks: ['not base64!'],
      claimed_total_chunks: -1,
    });

    assert.equal(res.status, 400);
    const msg = res.json<{ detail: { msg: string }[] }>().detail[0]?.msg ?? '';
    for (const problem of [
      'recipient is required',
      'message_type must be',
      '"bad name" is not a header name',
      'chunks must be an array of base64 strings',
      'claimed_total_chunks must be a whole number',
    ]) {
      assert.ok(msg.includes(problem), `${problem} in ${msg}`);
    }
  });

  test('refuses an unknown recipient with 404', async () => {
    const res = await injectOverHttp({ recipient: 'X99NONE', chunks: [b64('x')] });

    assert.equal(res.status, 404);
  });
});
