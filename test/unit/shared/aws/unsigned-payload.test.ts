import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { sendUploadsUnsigned } from '../../../../shared/aws/unsigned-payload.js';
import { MultipartWriter } from '../../../../shared/inbound/multipart-writer.js';

const STOP = new Error('request captured');

/**
 * The headers a command would go out with, signed, from a client at `endpoint`: captured after signing and
 * stopped there, so no request leaves the process.
 */
async function signedHeadersOf(
  endpoint: string,
  command: PutObjectCommand | UploadPartCommand | GetObjectCommand,
  checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED' = 'WHEN_REQUIRED',
) {
  const client = new S3Client({
    endpoint,
    region: 'eu-west-2',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestChecksumCalculation: checksums,
  });
  sendUploadsUnsigned(client);
  let captured: Record<string, string> | undefined;
  client.middlewareStack.add(
    () => async (args) => {
      captured = (args.request as { headers: Record<string, string> }).headers;
      throw STOP;
    },
    { step: 'deserialize', name: 'capture' },
  );
  await assert.rejects(client.send(command as PutObjectCommand), (e) => e === STOP);
  client.destroy();
  const headers: Record<string, string> = captured ?? {};
  assert.ok(headers.authorization?.includes('x-amz-content-sha256'), 'the request was not signed');
  return headers;
}

async function payloadHashOf(
  endpoint: string,
  command: PutObjectCommand | UploadPartCommand | GetObjectCommand,
) {
  return (await signedHeadersOf(endpoint, command))['x-amz-content-sha256'];
}

const body = Buffer.from('message bytes');
const put = () => new PutObjectCommand({ Bucket: 'inbound', Key: 'k', Body: body });
const part = () =>
  new UploadPartCommand({ Bucket: 'inbound', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body });

test('uploads over TLS go out UNSIGNED-PAYLOAD, not hashed a second time', async () => {
  assert.equal(await payloadHashOf('https://s3.eu-west-2.amazonaws.com', put()), 'UNSIGNED-PAYLOAD');
  assert.equal(await payloadHashOf('https://s3.eu-west-2.amazonaws.com', part()), 'UNSIGNED-PAYLOAD');
});

test("with the SDK's default checksums, as in Lambda, an unsigned part still carries a CRC32 for S3 to check", async () => {
  const headers = await signedHeadersOf('https://s3.eu-west-2.amazonaws.com', part(), 'WHEN_SUPPORTED');

  assert.equal(headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
  assert.match(headers['x-amz-checksum-crc32'] ?? '', /^[A-Za-z0-9+/]{6}==$/);
});

test('uploads to a loopback endpoint over plain http go out UNSIGNED-PAYLOAD', async () => {
  assert.equal(await payloadHashOf('http://127.0.0.1:4569', part()), 'UNSIGNED-PAYLOAD');
  assert.equal(await payloadHashOf('http://localhost:4569', put()), 'UNSIGNED-PAYLOAD');
});

test('uploads over plain http to any other host keep the signed SHA-256 of the body', async () => {
  const hashes = [
    await payloadHashOf('http://10.1.2.3:9000', part()),
    await payloadHashOf('http://s3.example.localhost:9000', put()),
  ];

  for (const hash of hashes) assert.match(hash ?? '', /^[0-9a-f]{64}$/);
});

test("the download function's part uploads go through the same rule", async () => {
  const headers: string[] = [];
  const s3 = new S3Client({
    endpoint: 'http://10.1.2.3:9000',
    region: 'eu-west-2',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  sendUploadsUnsigned(s3);
  s3.middlewareStack.add(
    () => async (args) => {
      headers.push((args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256']!);
      throw STOP;
    },
    { step: 'deserialize', name: 'capture' },
  );
  const writer = new MultipartWriter(
    s3,
    { bucket: 'inbound', key: 'k', uploadId: 'u' },
    5 * 1024 * 1024,
    [],
    async () => {},
  );

  await writer.write(Buffer.alloc(10), { chunk: 1, offset: 10 });
  await assert.rejects(writer.finish({ chunk: 1, offset: 10 }), (e) => e === STOP);
  s3.destroy();

  assert.equal(headers.length, 1);
  assert.match(headers[0]!, /^[0-9a-f]{64}$/);
});

test('requests that are not uploads keep the SDK default', async () => {
  const hash = await payloadHashOf(
    'https://s3.eu-west-2.amazonaws.com',
    new GetObjectCommand({ Bucket: 'b', Key: 'k' }),
  );

  assert.notEqual(hash, 'UNSIGNED-PAYLOAD');
});
