import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  HashProgress,
  ResumableHashOptions,
  ResumableHashResult,
} from '../../../../shared/aws/resumable-sha256.js';
import { METRICS } from '../../../../shared/observability/metric-names.js';
import { SendFinisher } from '../../../../shared/outbound/send-finisher.js';
import type { TransferRecord } from '../../../../shared/outbound/transfer.js';
import { LeaseLostError } from '../../../../shared/state/leased-store.js';
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

const FIRST_TRACKING_DELAY_MS = 60_000;
const SHA = 'a'.repeat(64);
const PROGRESS: HashProgress = { version: 'version-1', bytes: 1024, state: 'c3RhdGU=' };

/** Every chunk is with MESH, but the send was split, so no SHA-256 was streamed. */
const allSent = (overrides: Partial<TransferRecord> = {}) =>
  transfer({ chunksSent: 3, bytesSent: 3 * 1024 * 1024, ...overrides });

function s3Error(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

/** A finisher over fakes; `hash` is what reading the object back does with the options it is given. */
function harness(
  record: TransferRecord,
  hash: (options: ResumableHashOptions) => Promise<ResumableHashResult> = async () => {
    throw new Error('the object should not be read again');
  },
) {
  const transfers = new FakeTransfers(record);
  const { calls } = transfers;
  const status = new FakeStatusChanges(transfers);
  const log = new RecordingLog();
  const metrics = new RecordingMetrics();
  const finisher = new SendFinisher({
    transfers,
    hashObject: async (_object, options) => {
      calls.push('hash');
      return hash(options);
    },
    status,
    enqueueContinuation: async (transferId, mailboxId, delaySeconds) => {
      calls.push(`enqueue ${transferId} ${mailboxId} ${delaySeconds ?? 'now'}`);
    },
    settings: {
      hashCheckpointBytes: 4096,
      safetyMarginMs: 60_000,
      maxAttempts: MAX_ATTEMPTS,
      firstTrackingDelayMs: FIRST_TRACKING_DELAY_MS,
    },
    log,
    metrics,
    now: () => new Date(NOW),
  });
  return { finisher, transfers, calls, status, log, metrics };
}

describe('finishing a send', () => {
  test('accepts a send with the SHA-256 it streamed, due its first delivery check, then releases the lease', async () => {
    const { finisher, calls, status, metrics } = harness(allSent());

    const outcome = await finisher.finishSend(allSent(), budgetOnAttempt(1), SHA);

    assert.equal(outcome, 'accepted');
    assert.deepEqual(calls, ['change:accepted', 'releaseLease']);
    assert.deepEqual(status.changes, [
      {
        status: 'accepted',
        sha256: SHA,
        hashProgress: undefined,
        acceptedAt: new Date(NOW).toISOString(),
        errorCode: undefined,
        errorText: undefined,
        sender: 'X26ABC1',
        trackingChecks: 0,
        nextTrackingAt: NOW + FIRST_TRACKING_DELAY_MS,
      },
    ]);
    assert.deepEqual(metrics.names(), [METRICS.transfersAccepted, 'BytesAccepted']);
  });

  test('keeps the SHA-256 an earlier invocation recorded instead of reading the object again', async () => {
    const { finisher, calls, status } = harness(allSent({ sha256: SHA }));

    await finisher.finishSend(allSent({ sha256: SHA }), budgetOnAttempt(1), undefined);

    assert.deepEqual(calls, ['change:accepted', 'releaseLease']);
    assert.equal(status.changes[0]?.sha256, SHA);
  });

  test('reads the object of a split send again for its SHA-256, from saved progress, saving more as it goes', async () => {
    let given: ResumableHashOptions | undefined;
    const record = allSent({ hashProgress: PROGRESS });
    const { finisher, calls, transfers, status } = harness(record, async (options) => {
      given = options;
      await options.onCheckpoint({ ...PROGRESS, bytes: 5120 });
      return { done: true, sha256: SHA };
    });

    const outcome = await finisher.finishSend(record, budgetOnAttempt(1), undefined);

    assert.equal(outcome, 'accepted');
    assert.deepEqual(given?.from, PROGRESS);
    assert.deepEqual(calls, ['hash', 'update', 'change:accepted', 'releaseLease']);
    assert.deepEqual(transfers.updates, [{ hashProgress: { ...PROGRESS, bytes: 5120 } }]);
    assert.equal(status.changes[0]?.sha256, SHA);
    assert.equal(status.changes[0]?.hashProgress, undefined);
  });

  test('hands the rest of the hashing to a continuation when the time runs out', async () => {
    const { finisher, calls, status } = harness(allSent(), async () => ({
      done: false,
      progress: PROGRESS,
    }));

    const outcome = await finisher.finishSend(allSent(), budgetOnAttempt(1), undefined);

    assert.equal(outcome, 'paused');
    assert.deepEqual(calls, ['hash', 'releaseLease', `enqueue ${TRANSFER_ID} X26ABC1 now`]);
    assert.deepEqual(status.changes, []);
  });

  test('accepts without a SHA-256 when the object has been deleted since MESH took it', async () => {
    const { finisher, status, log } = harness(allSent(), async () => {
      throw s3Error('NoSuchKey', 404);
    });

    const outcome = await finisher.finishSend(allSent(), budgetOnAttempt(1), undefined);

    assert.equal(outcome, 'accepted');
    assert.equal(status.changes[0]?.status, 'accepted');
    assert.equal(status.changes[0]?.sha256, undefined);
    assert.match(log.lines[0]?.message ?? '', /accepted without its SHA-256/);
  });

  test('retries a read that fails for a passing reason, and settles for no SHA-256 only on the last attempt', async () => {
    const unavailable = () => s3Error('ServiceUnavailable', 503);

    const early = harness(allSent(), async () => {
      throw unavailable();
    });
    await assert.rejects(
      early.finisher.finishSend(allSent(), budgetOnAttempt(MAX_ATTEMPTS - 1), undefined),
      /ServiceUnavailable/,
    );
    assert.deepEqual(early.status.changes, []);

    const last = harness(allSent(), async () => {
      throw unavailable();
    });
    assert.equal(
      await last.finisher.finishSend(allSent(), budgetOnAttempt(MAX_ATTEMPTS), undefined),
      'accepted',
    );
  });

  test('stops at once when its lease is lost while hashing, even on the last attempt', async () => {
    const { finisher, status } = harness(allSent(), async () => {
      throw new LeaseLostError(TRANSFER_ID);
    });

    await assert.rejects(
      finisher.finishSend(allSent(), budgetOnAttempt(MAX_ATTEMPTS), undefined),
      LeaseLostError,
    );
    assert.deepEqual(status.changes, []);
  });
});
