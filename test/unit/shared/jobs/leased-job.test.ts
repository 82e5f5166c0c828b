import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HashProgress } from '../../../../shared/aws/resumable-sha256.js';
import {
  acquireJobLease,
  checkpointedHashOptions,
  handOver,
  isLastAttempt,
  timeRunsOut,
  type InvocationBudget,
} from '../../../../shared/jobs/leased-job.js';
import type { LeasedRecord, LeaseResult } from '../../../../shared/state/leased-store.js';

function budget(remainingMs: number, receiveCount = 1): InvocationBudget {
  return { invocationId: 'invocation-1', receiveCount, remainingMs: () => remainingMs };
}

const PROGRESS: HashProgress = { version: 'v1', bytes: 1024, state: 'c3RhdGU=' };

describe('a leased job', () => {
  test('leases its record for the rest of the invocation plus the grace period', async () => {
    const asked: { id: string; owner: string; leaseMs: number }[] = [];
    const record: LeasedRecord = { status: 'sending', attempts: 1 };
    const leases = {
      acquireLease: async (
        id: string,
        owner: string,
        leaseMs: number,
      ): Promise<LeaseResult<LeasedRecord>> => {
        asked.push({ id, owner, leaseMs });
        return { kind: 'acquired', record };
      },
    };

    const lease = await acquireJobLease(leases, 'job-1', budget(90_000), { leaseGraceMs: 60_000 });

    assert.deepEqual(asked, [{ id: 'job-1', owner: 'invocation-1', leaseMs: 150_000 }]);
    assert.deepEqual(lease, { kind: 'acquired', record });
  });

  test('is on its last attempt from the queue maxReceiveCount-th delivery on', () => {
    const settings = { maxAttempts: 3 };

    assert.equal(isLastAttempt(budget(1000, 2), settings), false);
    assert.equal(isLastAttempt(budget(1000, 3), settings), true);
    // A message redriven from the DLQ and received again keeps counting past the limit.
    assert.equal(isLastAttempt(budget(1000, 4), settings), true);
  });

  test('runs out of time only when less than the safety margin plus the room asked for is left', () => {
    const settings = { safetyMarginMs: 60_000 };

    assert.equal(timeRunsOut(budget(60_000), settings), false);
    assert.equal(timeRunsOut(budget(59_999), settings), true);
    assert.equal(timeRunsOut(budget(79_999), settings, 20_000), true);
    assert.equal(timeRunsOut(budget(80_000), settings, 20_000), false);
  });

  test('hands over by releasing its lease before queuing the continuation', async () => {
    const calls: string[] = [];
    const leases = {
      releaseLease: async (id: string, owner: string) => {
        calls.push(`release ${id} by ${owner}`);
      },
    };

    await handOver(leases, 'job-1', budget(1000), async () => {
      calls.push('continue');
    });

    assert.deepEqual(calls, ['release job-1 by invocation-1', 'continue']);
  });

  test('queues no continuation when its lease cannot be released, so its own message carries the job on', async () => {
    let continued = false;
    const leases = {
      releaseLease: async () => {
        throw new Error('DynamoDB unavailable');
      },
    };

    await assert.rejects(
      handOver(leases, 'job-1', budget(1000), async () => {
        continued = true;
      }),
      /DynamoDB unavailable/,
    );
    assert.equal(continued, false);
  });

  test('reads an object back for its SHA-256 from saved progress, saving more, and pausing inside the margin', async () => {
    const saved: HashProgress[] = [];
    let remaining = 120_000;
    const options = checkpointedHashOptions(
      { invocationId: 'invocation-1', receiveCount: 1, remainingMs: () => remaining },
      { safetyMarginMs: 60_000, hashCheckpointBytes: 4096 },
      {
        from: PROGRESS,
        save: async (progress) => {
          saved.push(progress);
        },
        onRestart: () => {},
      },
    );

    await options.onCheckpoint({ ...PROGRESS, bytes: 5120 });

    assert.equal(options.checkpointBytes, 4096);
    assert.deepEqual(options.from, PROGRESS);
    assert.deepEqual(saved, [{ ...PROGRESS, bytes: 5120 }]);
    assert.equal(options.shouldPause(), false);
    remaining = 59_000;
    assert.equal(options.shouldPause(), true);
    assert.equal(options.signal?.aborted, false);
  });
});
