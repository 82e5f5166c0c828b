import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LocalIdLookup, OutboxListing } from '../../../../shared/mesh/index.js';
import { METRICS } from '../../../../shared/observability/metric-names.js';
import type { TransferRecord } from '../../../../shared/outbound/transfer.js';
import type { OutboxLooks } from '../../../../shared/outbound/unknown-outcome.js';
import { RecoveryError } from '../../../../shared/outbound/unknown-outcome.js';
import {
  MAX_UNKNOWN_OUTCOME_RESENDS,
  UnknownPostRecovery,
} from '../../../../shared/outbound/unknown-post-recovery.js';
import {
  budgetOnAttempt,
  FakeTransfers,
  MIB,
  NOW,
  RecordingLog,
  RecordingMetrics,
  transfer,
  TRANSFER_ID,
} from './fakes.js';

/** Recheck delays of 30, 60 and 120 seconds: a window of 210 seconds from the first look. */
const RECHECK_SECONDS = [30, 60, 120];
const SECOND = 1000;

/** A first POST that began a minute ago and whose answer never came. */
function unanswered(overrides: Partial<TransferRecord> = {}): TransferRecord {
  return transfer({
    messageId: undefined,
    chunksSent: 0,
    bytesSent: 0,
    postStartedAt: new Date(NOW - 60 * SECOND).toISOString(),
    ...overrides,
  });
}

const NOTHING_PROVEN_ABSENT: LocalIdLookup = { kind: 'none', proven: true };
const EMPTY_OUTBOX: OutboxListing = { kind: 'listed', messages: [], complete: true };

function harness(record: TransferRecord, mesh: { byLocalId?: LocalIdLookup; outbox?: OutboxListing } = {}) {
  const transfers = new FakeTransfers(record);
  const { calls } = transfers;
  const metrics = new RecordingMetrics();
  const client: OutboxLooks = {
    findByLocalId: async () => {
      calls.push('findByLocalId');
      return mesh.byLocalId ?? NOTHING_PROVEN_ABSENT;
    },
    listOutbox: async () => {
      calls.push('listOutbox');
      return mesh.outbox ?? EMPTY_OUTBOX;
    },
  };
  const recovery = new UnknownPostRecovery({
    transfers,
    enqueueContinuation: async (transferId, mailboxId, delaySeconds) => {
      calls.push(`enqueue ${transferId} ${mailboxId} after ${delaySeconds}s`);
    },
    settings: { recoveryRecheckSeconds: RECHECK_SECONDS },
    log: new RecordingLog(),
    metrics,
    now: () => new Date(NOW),
  });
  return { recover: () => recovery.recover(record, client, budgetOnAttempt(1)), transfers, calls, metrics };
}

describe('recovery of a first POST whose answer was lost', () => {
  test('looks nowhere when its next look is not yet due, leaving the scheduled look to carry on', async () => {
    const { recover, calls } = harness(unanswered({ nextRecheckAt: NOW + 10 * SECOND }));

    assert.equal(await recover(), 'recheck');
    assert.deepEqual(calls, ['releaseLease']);
  });

  test('takes up the message id MESH tracking finds for the local id, as if the first chunk had been sent', async () => {
    const record = unanswered({ recoveryChecks: 2, recoveryStartedAt: new Date(NOW).toISOString() });
    const { recover, transfers, metrics } = harness(record, {
      byLocalId: {
        kind: 'found',
        tracking: {
          messageId: 'MSG-FOUND',
          localId: record.localId,
          recipient: 'x26abc2',
          workflowId: 'TEST_WORKFLOW',
          status: 'uploading',
        },
      },
    });

    const recovered = await recover();

    assert.notEqual(recovered, 'recheck');
    assert.deepEqual(transfers.updates, [
      {
        messageId: 'MSG-FOUND',
        chunksSent: 1,
        bytesSent: MIB,
        sender: 'X26ABC1',
        localId: record.localId,
        recoveryChecks: undefined,
        recoveryStartedAt: undefined,
        nextRecheckAt: undefined,
      },
    ]);
    assert.deepEqual(metrics.names(), ['RecoveredSends']);
  });

  test('schedules its next look after the first delay when nothing is found yet', async () => {
    const { recover, calls, transfers } = harness(unanswered());

    assert.equal(await recover(), 'recheck');
    assert.deepEqual(calls, [
      'findByLocalId',
      'listOutbox',
      'update',
      'releaseLease',
      `enqueue ${TRANSFER_ID} X26ABC1 after 30s`,
    ]);
    assert.deepEqual(transfers.updates, [
      {
        recoveryChecks: 1,
        recoveryStartedAt: new Date(NOW).toISOString(),
        nextRecheckAt: NOW + 30 * SECOND,
      },
    ]);
  });

  test('keeps looking until the window measured from the first look has passed, even after every delay', async () => {
    // Every delay has been used, but early redeliveries left 110 of the window's 210 seconds still to run.
    const { recover, calls } = harness(
      unanswered({
        recoveryChecks: RECHECK_SECONDS.length,
        recoveryStartedAt: new Date(NOW - 100 * SECOND).toISOString(),
      }),
    );

    assert.equal(await recover(), 'recheck');
    assert.equal(calls.at(-1), `enqueue ${TRANSFER_ID} X26ABC1 after 110s`);
  });

  test('sends again, counted, once the window has passed and a look has proved there is no message', async () => {
    const { recover, calls, transfers, metrics } = harness(
      unanswered({
        recoveryChecks: RECHECK_SECONDS.length,
        recoveryStartedAt: new Date(NOW - 300 * SECOND).toISOString(),
      }),
    );

    const cleared = await recover();

    assert.notEqual(cleared, 'recheck');
    assert.deepEqual(calls, ['findByLocalId', 'listOutbox', 'update']);
    assert.deepEqual(transfers.updates, [
      {
        postStartedAt: undefined,
        unknownResends: 1,
        recoveryChecks: undefined,
        recoveryStartedAt: undefined,
        nextRecheckAt: undefined,
      },
    ]);
    assert.deepEqual(metrics.names(), [METRICS.unknownOutcomeResends]);
  });

  test('never sends again when no look could prove the message absent', async () => {
    const { recover, transfers } = harness(
      unanswered({
        recoveryChecks: RECHECK_SECONDS.length,
        recoveryStartedAt: new Date(NOW - 300 * SECOND).toISOString(),
      }),
      { byLocalId: { kind: 'none', proven: false }, outbox: { kind: 'unsupported' } },
    );

    await assert.rejects(recover(), (error: unknown) => {
      assert.ok(error instanceof RecoveryError);
      assert.match(error.message, /no look could prove there is none/);
      return true;
    });
    assert.deepEqual(transfers.updates, []);
  });

  test('stops for a person after a bounded number of re-sends', async () => {
    const { recover, transfers } = harness(
      unanswered({
        unknownResends: MAX_UNKNOWN_OUTCOME_RESENDS,
        recoveryChecks: RECHECK_SECONDS.length,
        recoveryStartedAt: new Date(NOW - 300 * SECOND).toISOString(),
      }),
    );

    await assert.rejects(recover(), RecoveryError);
    assert.deepEqual(transfers.updates, []);
  });

  test('stops for a person when more than one MESH message carries the local id', async () => {
    const { recover, calls } = harness(unanswered(), { byLocalId: { kind: 'ambiguous' } });

    await assert.rejects(recover(), RecoveryError);
    assert.deepEqual(calls, ['findByLocalId']);
  });
});
