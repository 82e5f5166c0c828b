import type { HeadObjectCommandInput } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { METRICS } from '../../../../shared/observability/metric-names.js';
import { TransferPreparation } from '../../../../shared/outbound/transfer-preparation.js';
import type { TransferRecord } from '../../../../shared/outbound/transfer.js';
import {
  budgetOnAttempt,
  FakeStatusChanges,
  FakeTransfers,
  MIB,
  NOW,
  RecordingLog,
  RecordingMetrics,
  transfer,
  TRANSFER_ID,
} from './fakes.js';

const CHUNK_BYTES = 2 * MIB;

/** A transfer as an S3 event creates it: nothing known of its metadata yet. */
function received(overrides: Partial<TransferRecord> = {}): TransferRecord {
  return transfer({
    status: 'received',
    sender: undefined,
    recipient: undefined,
    workflowId: undefined,
    localId: undefined,
    fileName: undefined,
    messageId: undefined,
    chunkBytes: undefined,
    totalChunks: undefined,
    chunksSent: 0,
    bytesSent: 0,
    size: 1,
    ...overrides,
  });
}

function harness(
  record: TransferRecord,
  head: { metadata?: Record<string, string>; size?: number; eTag?: string } = {},
) {
  const transfers = new FakeTransfers(record);
  const status = new FakeStatusChanges(transfers);
  const heads: HeadObjectCommandInput[] = [];
  const metrics = new RecordingMetrics();
  const preparation = new TransferPreparation({
    headObject: async (input) => {
      heads.push(input);
      return {
        ContentLength: head.size ?? 5 * MIB,
        Metadata: head.metadata ?? { 'mex-to': 'x26abc2', 'mex-workflowid': 'TEST_WORKFLOW' },
        ETag: head.eTag ?? '"etag-1"',
      };
    },
    sendingMailbox: async (mailboxId) =>
      mailboxId === 'X26ABC1' ? { routes: [{ prefix: 'outbound/X26ABC1/results/' }] } : undefined,
    status,
    settings: { maxBytes: 100 * MIB, chunkBytes: CHUNK_BYTES },
    log: new RecordingLog(),
    metrics,
    now: () => new Date(NOW),
  });
  return { prepare: () => preparation.prepare(record, budgetOnAttempt(1)), status, heads, metrics };
}

describe('preparing a transfer', () => {
  test('fixes every header and the chunking from the object as S3 holds it, before a byte is sent', async () => {
    const { prepare, status } = harness(received({ versionId: undefined, eTag: undefined }));

    const prepared = await prepare();

    assert.equal(prepared.status, 'sending');
    const [change] = status.changes;
    assert.equal(change?.size, 5 * MIB);
    assert.equal(change?.chunkBytes, CHUNK_BYTES);
    assert.equal(change?.totalChunks, 3);
    assert.equal(change?.eTag, 'etag-1');
    assert.equal(change?.sender, 'X26ABC1');
    assert.equal(change?.recipient, 'X26ABC2');
    assert.equal(change?.localId, `nmp-${TRANSFER_ID}`);
    assert.deepEqual(change?.address, prepared.address);
  });

  test('reads the version the event named, or failing that the ETag, so a replaced object is not sent', async () => {
    const versioned = harness(received({ versionId: 'version-1', eTag: 'etag-0' }));
    await versioned.prepare();
    const unversioned = harness(received({ versionId: undefined, eTag: 'etag-0' }));
    await unversioned.prepare();

    assert.equal(versioned.heads[0]?.VersionId, 'version-1');
    assert.equal(versioned.heads[0]?.IfMatch, undefined);
    assert.equal(unversioned.heads[0]?.VersionId, undefined);
    assert.equal(unversioned.heads[0]?.IfMatch, '"etag-0"');
  });

  test('rejects an object with every reason at once, counted under the mailbox its key names', async () => {
    const { prepare, status, metrics } = harness(received(), { metadata: {} });

    const rejected = await prepare();

    assert.equal(rejected.status, 'rejected');
    assert.equal(status.changes[0]?.finishedAt, new Date(NOW).toISOString());
    assert.match(status.changes[0]?.errorText ?? '', /no recipient.*; no workflow/);
    assert.deepEqual(metrics.points, [
      { name: METRICS.transfersRejected, unit: 'Count', value: 1, mailboxId: 'X26ABC1' },
    ]);
  });

  test('rejects an object under a mailbox this deployment does not serve', async () => {
    const { prepare, status } = harness(received({ key: 'outbound/X99ZZZ9/results/batch-1.csv' }));

    const rejected = await prepare();

    assert.equal(rejected.status, 'rejected');
    assert.equal(status.changes[0]?.sender, 'X99ZZZ9');
    assert.match(
      status.changes[0]?.errorText ?? '',
      /sending mailbox X99ZZZ9 is not configured in this deployment/,
    );
  });
});
