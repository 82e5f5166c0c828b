import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshConfigurationError, MeshRejectedError, type Tracking } from '../../../../shared/mesh/index.js';
import { METRICS } from '../../../../shared/observability/metric-names.js';
import { SendFailurePolicy, type SendFailureDeps } from '../../../../shared/outbound/send-failure-policy.js';
import type { SendOutcome } from '../../../../shared/outbound/send-job.js';
import type { TransferRecord } from '../../../../shared/outbound/transfer.js';
import {
  budgetOnAttempt,
  FakeStatusChanges,
  FakeTransfers,
  MAX_ATTEMPTS,
  NOW,
  RecordingLog,
  RecordingMetrics,
  transfer,
  TRANSFER_ID,
} from './fakes.js';

/** A transient fault: the kind S3 or MESH throws when briefly unavailable. */
function transientError(): Error {
  const error = new Error('connection reset');
  error.name = 'TimeoutError';
  return error;
}

function s3Error(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

interface HarnessOptions {
  /** What isObjectMissing answers. */
  readonly missing?: boolean;
  /** What MESH tracking answers, or the error it throws. */
  readonly tracking?: Partial<Tracking> | Error;
  /** What finishing the send answers, or the error it throws. */
  readonly finished?: SendOutcome | Error;
}

/** Typed fakes of every port the policy uses, recording in one list what it did in the order it did it. */
function harness(written: TransferRecord = transfer(), options: HarnessOptions = {}) {
  const transfers = new FakeTransfers(written);
  const { calls } = transfers;
  const status = new FakeStatusChanges(transfers);
  const log = new RecordingLog();
  const metrics = new RecordingMetrics();
  const deps: SendFailureDeps = {
    transfers,
    objectMissing: async () => {
      calls.push('objectMissing');
      return options.missing ?? false;
    },
    meshClient: async () => ({
      track: async (messageId) => {
        calls.push('track');
        if (options.tracking instanceof Error) throw options.tracking;
        return { messageId, status: 'accepted', ...options.tracking };
      },
    }),
    status,
    finisher: {
      finishSend: async () => {
        calls.push('finishSend');
        if (options.finished instanceof Error) throw options.finished;
        return options.finished ?? 'accepted';
      },
    },
    settings: { maxAttempts: MAX_ATTEMPTS },
    log,
    metrics,
    now: () => new Date(NOW),
  };
  return { policy: new SendFailurePolicy(deps), transfers, calls, status, log, metrics };
}

describe('send failure policy', () => {
  test('fails a transfer MESH refused, with MESH code and description, without retrying it', async () => {
    const { policy, calls, status, metrics } = harness();
    const refused = new MeshRejectedError('MESH refused the message', {
      code: '12',
      description: 'Unregistered to address',
    });

    const outcome = await policy.recordFailure(TRANSFER_ID, transfer(), refused, budgetOnAttempt(1));

    assert.equal(outcome, 'failed');
    assert.deepEqual(calls, ['get', 'change:failed']);
    assert.deepEqual(status.changes, [
      {
        status: 'failed',
        errorCode: '12',
        errorText: 'Unregistered to address',
        finishedAt: new Date(NOW).toISOString(),
      },
    ]);
    assert.deepEqual(metrics.names(), [METRICS.transfersFailed]);
  });

  test('rejects a transfer that no MESH configuration could send', async () => {
    const { policy, status, metrics } = harness();

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      new MeshConfigurationError('MESH does not accept an empty message'),
      budgetOnAttempt(1),
    );

    assert.equal(outcome, 'rejected');
    assert.equal(status.changes[0]?.errorText, 'MESH does not accept an empty message');
    assert.deepEqual(metrics.names(), [METRICS.transfersRejected]);
  });

  test('leaves a transient failure before the last attempt for the queue to retry, noting it on the record', async () => {
    const { policy, calls, transfers, metrics, log } = harness();

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      transientError(),
      budgetOnAttempt(MAX_ATTEMPTS - 1),
    );

    assert.equal(outcome, 'retry');
    assert.deepEqual(calls, ['get', 'objectMissing', 'update', 'releaseLease']);
    assert.deepEqual(transfers.updates, [
      { errorCode: 'TimeoutError', errorText: 'TimeoutError: connection reset' },
    ]);
    assert.equal(transfers.record.status, 'sending');
    assert.deepEqual(metrics.names(), [METRICS.transferRetries]);
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.message]),
      [['warn', 'transfer hit a transient failure; it will be retried']],
    );
  });

  test('marks a transfer stalled on the last attempt, keeping its progress for a redrive to resume', async () => {
    const { policy, calls, status, transfers, log } = harness();

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      transientError(),
      budgetOnAttempt(MAX_ATTEMPTS),
    );

    assert.equal(outcome, 'retry');
    assert.deepEqual(calls, ['get', 'objectMissing', 'change:stalled', 'releaseLease']);
    assert.deepEqual(status.changes, [
      { status: 'stalled', errorCode: 'TimeoutError', errorText: 'TimeoutError: connection reset' },
    ]);
    assert.equal(transfers.record.chunksSent, 1);
    assert.equal(transfers.record.messageId, 'MSG-1');
    assert.equal(log.lines[0]?.level, 'error');
  });

  test('fails a transfer whose object S3 shows missing (a 403) before its final chunk could have gone', async () => {
    const { policy, calls, status } = harness(transfer({ chunksSent: 0, messageId: undefined }), {
      missing: true,
    });

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      s3Error('AccessDenied', 403),
      budgetOnAttempt(1),
    );

    assert.equal(outcome, 'failed');
    assert.deepEqual(calls, ['get', 'objectMissing', 'change:failed']);
    assert.equal(status.changes[0]?.errorText, 'the S3 object was deleted before it could be sent');
  });

  test('finishes a transfer as accepted when its object is gone but tracking shows MESH has the final chunk', async () => {
    const { policy, calls, status } = harness(transfer({ chunksSent: 2 }), {
      tracking: { status: 'accepted' },
    });

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      s3Error('NoSuchKey', 404),
      budgetOnAttempt(1),
    );

    assert.equal(outcome, 'accepted');
    assert.deepEqual(calls, ['get', 'track', 'finishSend']);
    assert.deepEqual(status.changes, []);
  });

  test('fails a transfer whose object is gone when tracking shows the final chunk never arrived', async () => {
    const { policy, calls } = harness(transfer({ chunksSent: 2 }), { tracking: { status: 'uploading' } });

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      s3Error('NoSuchKey', 404),
      budgetOnAttempt(1),
    );

    assert.equal(outcome, 'failed');
    assert.deepEqual(calls, ['get', 'track', 'change:failed']);
  });

  test('retries instead of failing when tracking cannot say whether the final chunk was stored', async () => {
    const { policy, calls, log } = harness(transfer({ chunksSent: 2 }), {
      tracking: new Error('tracking unavailable'),
    });

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      s3Error('NoSuchKey', 404),
      budgetOnAttempt(1),
    );

    assert.equal(outcome, 'retry');
    assert.deepEqual(calls, ['get', 'track', 'update', 'releaseLease']);
    assert.match(log.lines[0]?.message ?? '', /could not tell from tracking/);
  });

  test('retries when MESH has the message but recording its acceptance failed', async () => {
    const { policy, calls } = harness(transfer({ chunksSent: 2 }), {
      tracking: { status: 'acknowledged' },
      finished: new Error('DynamoDB unavailable'),
    });

    const outcome = await policy.recordFailure(
      TRANSFER_ID,
      transfer(),
      s3Error('NoSuchKey', 404),
      budgetOnAttempt(1),
    );

    assert.equal(outcome, 'retry');
    assert.deepEqual(calls, ['get', 'track', 'finishSend', 'update', 'releaseLease']);
  });

  test('judges by the record as written, not the one the attempt started from', async () => {
    // The attempt started before any chunk went; by the time it failed, two had.
    const { policy, calls } = harness(transfer({ chunksSent: 2 }), { tracking: { status: 'accepted' } });

    await policy.recordFailure(
      TRANSFER_ID,
      transfer({ chunksSent: 0, messageId: undefined }),
      s3Error('NoSuchKey', 404),
      budgetOnAttempt(1),
    );

    assert.deepEqual(calls, ['get', 'track', 'finishSend']);
  });

  test('still releases the lease when the store will not take the failure, on any attempt', async () => {
    for (const attempt of [1, MAX_ATTEMPTS]) {
      const { policy, calls, transfers } = harness();
      transfers.failUpdates = new Error('DynamoDB unavailable');

      const outcome = await policy.recordFailure(
        TRANSFER_ID,
        transfer(),
        transientError(),
        budgetOnAttempt(attempt),
      );

      assert.equal(outcome, 'retry');
      assert.equal(calls.at(-1), 'releaseLease', `attempt ${attempt}`);
    }
  });
});
