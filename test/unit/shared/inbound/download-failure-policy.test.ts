import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PermanentDownloadError } from '../../../../shared/inbound/download-errors.js';
import {
  DownloadFailurePolicy,
  type DownloadFailureDeps,
  type MultipartUploadRef,
} from '../../../../shared/inbound/download-failure-policy.js';
import type { DownloadBudget } from '../../../../shared/inbound/download-job.js';
import type { InboundRecord } from '../../../../shared/inbound/inbound-record.js';
import { METRICS } from '../../../../shared/observability/metric-names.js';
import type { Log, MetricsSink } from '../../../../shared/observability/ports.js';

const MAX_ATTEMPTS = 3;
const ID = 'MBX01#msg-1';

const downloading: InboundRecord = {
  mailboxId: 'MBX01',
  messageId: 'msg-1',
  status: 'downloading',
  attempts: 1,
  bucket: 'inbound-bucket',
  key: 'inbound/MBX01/wf/msg-1/file.dat',
  uploadId: 'upload-1',
  parts: [{ partNumber: 1, eTag: '"e1"' }],
  nextChunk: 2,
  skipBytes: 10,
  createdAt: '2026-12-03T00:00:00.000Z',
  updatedAt: '2026-12-03T00:00:00.000Z',
};

/** A transient fault: the kind S3 or MESH throws when briefly unavailable. */
function transientError(): Error {
  const error = new Error('connection reset');
  error.name = 'TimeoutError';
  return error;
}

function budgetOnAttempt(receiveCount: number): DownloadBudget {
  return { invocationId: 'invocation-1', receiveCount, remainingMs: () => 60_000 };
}

/** Typed fakes of every port the policy uses, recording what it did in the order it did it. */
function harness(written: InboundRecord = downloading) {
  const calls: string[] = [];
  const updates: Partial<InboundRecord>[] = [];
  const aborted: MultipartUploadRef[] = [];
  const metrics: string[] = [];
  const logged: { level: keyof Log; message: string }[] = [];
  const log: Log = {
    debug: (message) => logged.push({ level: 'debug', message }),
    info: (message) => logged.push({ level: 'info', message }),
    warn: (message) => logged.push({ level: 'warn', message }),
    error: (message) => logged.push({ level: 'error', message }),
  };
  const metricsSink: MetricsSink = { add: (name) => metrics.push(name) };
  const deps: DownloadFailureDeps = {
    inbound: {
      get: async () => {
        calls.push('get');
        return written;
      },
      update: async (_id, _owner, changes) => {
        calls.push('update');
        updates.push(changes);
        return { ...written, ...changes };
      },
      releaseLease: async () => {
        calls.push('releaseLease');
      },
    },
    abortUpload: async (upload) => {
      calls.push('abortUpload');
      aborted.push(upload);
    },
    settings: { maxAttempts: MAX_ATTEMPTS },
    log,
    metrics: metricsSink,
  };
  return { policy: new DownloadFailurePolicy(deps), calls, updates, aborted, metrics, logged };
}

describe('download failure policy', () => {
  test('poisons a permanent failure on its first attempt and aborts its half-written upload', async () => {
    const { policy, calls, updates, aborted, metrics } = harness();

    await policy.recordFailure(
      ID,
      downloading,
      new PermanentDownloadError('corrupt gzip'),
      budgetOnAttempt(1),
    );

    assert.deepEqual(calls, ['get', 'abortUpload', 'update', 'releaseLease']);
    assert.deepEqual(aborted, [{ bucket: 'inbound-bucket', key: downloading.key, uploadId: 'upload-1' }]);
    assert.deepEqual(updates, [
      {
        errorCode: 'PERMANENT',
        errorText: 'corrupt gzip',
        status: 'poisoned',
        uploadId: undefined,
        parts: undefined,
        nextChunk: undefined,
        skipBytes: undefined,
        hashProgress: undefined,
      },
    ]);
    assert.deepEqual(metrics, [METRICS.inboundPoisoned]);
  });

  test('leaves a transient failure before the last attempt for the queue to retry, keeping its progress', async () => {
    const { policy, calls, updates, metrics, logged } = harness();

    await policy.recordFailure(ID, downloading, transientError(), budgetOnAttempt(MAX_ATTEMPTS - 1));

    assert.deepEqual(calls, ['get', 'update', 'releaseLease']);
    assert.deepEqual(updates, [{ errorCode: 'TimeoutError', errorText: 'connection reset' }]);
    assert.deepEqual(metrics, []);
    assert.deepEqual(logged, [{ level: 'warn', message: 'download failed; it will be retried' }]);
  });

  test('poisons a transient failure on the last attempt but keeps its upload for a redrive to resume', async () => {
    const { policy, calls, updates, metrics } = harness();

    await policy.recordFailure(ID, downloading, transientError(), budgetOnAttempt(MAX_ATTEMPTS));

    assert.deepEqual(calls, ['get', 'update', 'releaseLease']);
    assert.deepEqual(updates, [
      { errorCode: 'TimeoutError', errorText: 'connection reset', status: 'poisoned' },
    ]);
    assert.deepEqual(metrics, [METRICS.inboundPoisoned]);
  });

  test('never poisons a stored message whose acknowledgement failed, even on the last attempt', async () => {
    const stored: InboundRecord = { ...downloading, status: 'stored', uploadId: undefined, parts: undefined };
    const { policy, updates, metrics, logged } = harness(stored);

    await policy.recordFailure(
      ID,
      downloading,
      new PermanentDownloadError('gone'),
      budgetOnAttempt(MAX_ATTEMPTS),
    );

    assert.deepEqual(updates, [{ errorCode: 'PERMANENT', errorText: 'gone' }]);
    assert.deepEqual(metrics, [METRICS.inboundAckFailures]);
    assert.equal(logged[0]?.level, 'error');
    assert.match(logged[0]?.message ?? '', /the poller will queue it again/);
  });

  test('starts the download afresh when its multipart upload has gone', async () => {
    const { policy, updates, aborted } = harness();
    const gone = new Error('The specified upload does not exist');
    gone.name = 'NoSuchUpload';

    await policy.recordFailure(ID, downloading, gone, budgetOnAttempt(1));

    assert.deepEqual(aborted, []);
    assert.deepEqual(updates, [
      {
        errorCode: 'NoSuchUpload',
        errorText: 'The specified upload does not exist',
        uploadId: undefined,
        parts: undefined,
        nextChunk: undefined,
        skipBytes: undefined,
        hashProgress: undefined,
      },
    ]);
  });

  test('falls back to the record it knew and still releases the lease when the store is failing', async () => {
    const calls: string[] = [];
    const storeDown = new Error('DynamoDB unavailable');
    const policy = new DownloadFailurePolicy({
      inbound: {
        get: async () => {
          calls.push('get');
          throw storeDown;
        },
        update: async () => {
          calls.push('update');
          throw storeDown;
        },
        releaseLease: async () => {
          calls.push('releaseLease');
        },
      },
      abortUpload: async () => {
        calls.push('abortUpload');
      },
      settings: { maxAttempts: MAX_ATTEMPTS },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      metrics: { add: () => {} },
    });

    await policy.recordFailure(
      ID,
      downloading,
      new PermanentDownloadError('corrupt gzip'),
      budgetOnAttempt(1),
    );

    // The known record still had its upload, so the half-written upload is aborted before the lease goes.
    assert.deepEqual(calls, ['get', 'abortUpload', 'update', 'releaseLease']);
  });
});
