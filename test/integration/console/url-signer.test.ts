import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, startLocalAws, type LocalAws } from '../../../local/aws/index.js';
import { createAwsClients, type AwsClients } from '../../../shared/aws/clients.js';
import { s3UrlSigner } from '../../../shared/console/s3-url-signer.js';

/** The console's presigned URLs against the S3 emulator, through the real SDK presigner. */
describe('presigned URLs for the browser', () => {
  let aws: LocalAws;
  let clients: AwsClients;

  before(async () => {
    aws = await startLocalAws();
    clients = createAwsClients({ s3: aws.clientConfig('s3') });
    await createBucket(aws, 'console-outbound');
    await createBucket(aws, 'console-inbound');
  });
  after(async () => {
    await aws.close();
  });

  test('an upload lands under its key with the mex- metadata the pipeline reads', async () => {
    const signer = s3UrlSigner(clients.s3, { outboundBucket: 'console-outbound' });
    const key = 'outbound/X26ABC1/console/2026-12-03/abc.csv';
    const upload = await signer.upload({
      key,
      size: 5,
      contentType: 'text/csv',
      metadata: { 'mex-to': 'X26ABC2', 'mex-workflowid': 'W' },
    });
    // Length, type and metadata are signed as headers: S3 refuses a PUT that changes any of them.
    const signedHeaders = new URL(upload.url).searchParams.get('X-Amz-SignedHeaders')!.split(';');
    for (const name of ['content-length', 'content-type', 'x-amz-meta-mex-to', 'x-amz-meta-mex-workflowid'])
      assert.ok(signedHeaders.includes(name), `${name} is signed`);
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'hello' });
    assert.equal(put.status, 200);
    const stored = await fetch(
      (await signer.download({ bucket: 'console-outbound', key, fileName: 'abc.csv' })).url,
    );
    assert.equal(await stored.text(), 'hello');
    assert.equal(stored.headers.get('x-amz-meta-mex-to'), 'X26ABC2');
    assert.equal(stored.headers.get('x-amz-meta-mex-workflowid'), 'W');
  });

  test('an upload URL stores the file once: a second PUT to it is refused and the object is unchanged', async () => {
    const signer = s3UrlSigner(clients.s3, { outboundBucket: 'console-outbound' });
    const key = 'outbound/X26ABC1/console/2026-12-03/once.csv';
    const upload = await signer.upload({
      key,
      size: 5,
      contentType: 'text/csv',
      metadata: { 'mex-to': 'X26ABC2', 'mex-workflowid': 'W' },
    });
    const signedHeaders = new URL(upload.url).searchParams.get('X-Amz-SignedHeaders')!.split(';');
    assert.ok(signedHeaders.includes('if-none-match'), 'the condition is signed, so it cannot be left out');
    assert.equal(upload.headers['if-none-match'], '*');
    const first = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'first' });
    assert.equal(first.status, 200);
    // A retry after a dropped connection, or the same link used again: a second version would be a second transfer.
    const second = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'again' });
    assert.equal(second.status, 412);
    assert.match(await second.text(), /PreconditionFailed/);
    const stored = await fetch(
      (await signer.download({ bucket: 'console-outbound', key, fileName: 'once.csv' })).url,
    );
    assert.equal(await stored.text(), 'first');
  });

  test('a download link names the file, and is refused once it has expired', async () => {
    await clients.s3.send(
      new PutObjectCommand({ Bucket: 'console-inbound', Key: 'inbound/X26ABC2/W/M1/r.csv', Body: 'data' }),
    );
    const signer = s3UrlSigner(clients.s3, { outboundBucket: 'console-outbound', downloadSeconds: 1 });
    const link = await signer.download({
      bucket: 'console-inbound',
      key: 'inbound/X26ABC2/W/M1/r.csv',
      fileName: 'r.csv',
    });
    const fresh = await fetch(link.url);
    assert.equal(fresh.status, 200);
    assert.equal(
      fresh.headers.get('content-disposition'),
      `attachment; filename="r.csv"; filename*=UTF-8''r.csv`,
    );
    assert.equal(await fresh.text(), 'data');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const stale = await fetch(link.url);
    assert.equal(stale.status, 403);
    assert.match(await stale.text(), /Request has expired/);
  });
});
