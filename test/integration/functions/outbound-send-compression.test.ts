import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { buffer } from 'node:stream/consumers';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import { outboundStatusEvent } from '../../../shared/events/outbound-status.js';
import { transferIdFor } from '../../../shared/outbound/send-transfer.js';
import { ENV } from '../../../shared/wiring/pipeline.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

const MIB = 1024 * 1024;
const ADDRESS = { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** CSV rows as an extract would have them, each line different. */
function csv(size: number): Buffer {
  const names = ['SMITH', 'JONES', 'TAYLOR', 'BROWN', 'PATEL', 'KHAN'];
  let text = '';
  for (let i = 0; text.length < size; i++) {
    text += `${9_434_765_919 - i * 37},19${10 + ((i * 7) % 90)}-0${(i % 9) + 1}-${10 + (i % 18)},`;
    text += `${names[i % 6]},A${(i * 13) % 97},${((i * 7919) % 100_000) / 100},${i % 3 ? 'Y' : 'N'}\n`;
  }
  return Buffer.from(text).subarray(0, size);
}

describe('outbound send function: gzip only where it pays, decided once per message', () => {
  let h: PipelineHarness;
  before(async () => {
    h = await startPipelineHarness();
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await h.takeMessages(h.statusQueue);
  });

  function sendFunction(env: Record<string, string> = {}) {
    return createSendFunction(h.env({ [ENV.chunkBytes]: String(MIB), ...env }), {
      clients: h.clients,
      log: h.log,
      metrics: h.metrics,
    });
  }

  /** Runs the send queue dry, invocation n with functions[min(n, last)]: configuration can change mid-transfer. */
  async function runInvocations(functions: ReturnType<typeof sendFunction>[]) {
    let invocation = 0;
    const handler: (typeof functions)[0]['handler'] = (event, context) =>
      functions[Math.min(invocation++, functions.length - 1)]!.handler(event, context);
    await h.drain(h.eventSource(h.sendQueue, handler, { timeoutMs: 60_000 }), h.sendQueue, 60_000);
    for (const fn of functions) await fn.close();
    return invocation;
  }

  async function delivered(key: string, payload: Buffer, put: { eTag?: string; versionId?: string }) {
    const record = await h.transfers.get(
      transferIdFor({ bucket: h.outboundBucket, key, size: payload.length, ...put }),
    );
    assert.equal(record?.status, 'accepted', `${key} accepted`);
    const stored = await h.mesh.server.admin.getMessage(record.messageId!);
    const { body } = await h.mesh.client('X26ABC2').download(record.messageId!);
    assert.equal(sha256(await buffer(body)), sha256(payload), `${key} arrives intact`);
    return { record, stored: stored! };
  }

  test('sends random bytes uncompressed and CSV gzipped, every chunk of each alike', async () => {
    const table = csv(3 * MIB + 1234);
    const noise = randomBytes(2 * MIB + 99);
    const csvPut = await h.putObject('outbound/X26ABC1/extract.csv', table, ADDRESS);
    const noisePut = await h.putObject('outbound/X26ABC1/scan.bin', noise, ADDRESS);

    await runInvocations([sendFunction()]);

    const gzipped = await delivered('outbound/X26ABC1/extract.csv', table, csvPut);
    assert.equal(gzipped.stored.content_encoding, 'gzip');
    assert.equal(gzipped.stored.chunks_received, 4);
    assert.ok(
      gzipped.stored.chunk_sizes.every((size) => size !== null && size < 0.7 * MIB),
      `CSV chunks went compressed: ${gzipped.stored.chunk_sizes.join(', ')} bytes`,
    );
    assert.equal(gzipped.record.transportEncoding, 'gzip');
    assert.equal(gzipped.record.sha256, sha256(table));

    const plain = await delivered('outbound/X26ABC1/scan.bin', noise, noisePut);
    assert.equal(plain.stored.content_encoding, null, 'MESH stored no gzip encoding for random bytes');
    assert.deepEqual(plain.stored.chunk_sizes, [MIB, MIB, 99]);
    assert.equal(plain.record.transportEncoding, 'identity');
    assert.equal(plain.record.sha256, sha256(noise));
  });

  test('never gzips with COMPRESS=false, however well the file would compress', async () => {
    const table = csv(MIB + 5);
    const put = await h.putObject('outbound/X26ABC1/plain.csv', table, ADDRESS);

    await runInvocations([sendFunction({ [ENV.compress]: 'false' })]);

    const { stored, record } = await delivered('outbound/X26ABC1/plain.csv', table, put);
    assert.equal(stored.content_encoding, null);
    assert.equal(record.transportEncoding, 'identity');
  });

  test("a send resumed from its checkpoint keeps chunk 1's encoding though the configuration changed", async () => {
    const table = csv(3 * MIB);
    const put = await h.putObject('outbound/X26ABC1/resumed.csv', table, ADDRESS);
    // One chunk per invocation: each hands over to a continuation, which a function with compression off picks up.
    const oneChunkEach = { [ENV.safetyMarginMs]: '59990' };

    const invocations = await runInvocations([
      sendFunction(oneChunkEach),
      sendFunction({ ...oneChunkEach, [ENV.compress]: 'false' }),
    ]);

    assert.ok(invocations >= 3, `the send was spread over ${invocations} invocations`);
    const { stored } = await delivered('outbound/X26ABC1/resumed.csv', table, put);
    assert.equal(stored.content_encoding, 'gzip');
    assert.equal(stored.chunks_received, 3);
  });

  test('a transfer checkpointed before the encoding was recorded carries on as configured, gzip here', async () => {
    // Random bytes would be sent plain today. Chunk 1 goes gzipped (its record says so), then the record loses the
    // field, as one written before it existed: its later chunks must follow COMPRESS (on), not a new sample.
    const noise = randomBytes(3 * MIB);
    const key = 'outbound/X26ABC1/old-record.bin';
    const put = await h.putObject(key, noise, ADDRESS);
    const object = { bucket: h.outboundBucket, key, size: noise.length, ...put };
    const transferId = transferIdFor(object);
    await h.transfers.getOrCreate(transferId, object, (r) =>
      outboundStatusEvent(r, new Date().toISOString()),
    );
    await setEncoding(transferId, 'gzip');
    const first = sendFunction({ [ENV.safetyMarginMs]: '59990' });
    let invocation = 0;
    const forget: typeof first.handler = async (event, context) => {
      const result = await first.handler(event, context);
      if (invocation++ === 0) await setEncoding(transferId, undefined);
      return result;
    };

    await h.drain(h.eventSource(h.sendQueue, forget, { timeoutMs: 60_000 }), h.sendQueue, 60_000);
    await first.close();

    assert.ok(invocation >= 3, `the send was spread over ${invocation} invocations`);
    const { stored, record } = await delivered(key, noise, put);
    assert.equal(stored.content_encoding, 'gzip');
    assert.equal(stored.chunks_received, 3);
    assert.equal(record.transportEncoding, undefined);
  });

  /** Sets (or, given undefined, removes) a transfer record's transportEncoding, as no code path would. */
  async function setEncoding(transferId: string, encoding: string | undefined) {
    await h.clients.dynamo.send(
      new UpdateCommand({
        TableName: h.tableName,
        Key: { pk: `TRANSFER#${transferId}`, sk: 'TRANSFER' },
        ConditionExpression: 'attribute_exists(pk)',
        ...(encoding
          ? {
              UpdateExpression: 'SET transportEncoding = :encoding',
              ExpressionAttributeValues: { ':encoding': encoding },
            }
          : { UpdateExpression: 'REMOVE transportEncoding' }),
      }),
    );
  }
});
