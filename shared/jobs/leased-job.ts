import type { HashProgress, ResumableHashOptions } from '../aws/resumable-sha256.js';
import type { EnvReader } from '../config/env.js';
import { invocationDeadline } from '../runtime/deadline.js';
import type { LeasedRecord, LeaseResult } from '../state/leased-store.js';
import { TUNING } from '../wiring/pipeline.js';

/*
 * A send and a download are the same kind of job: a queue message asks for work on one record, an invocation takes
 * the record's lease, checkpoints its progress in the record as it goes, and hands the rest to a continuation
 * message when its time runs low. What the two have in common is written here once; what each does with a lease it
 * could not take, and what a failure leaves on its record, is its own.
 */

/** What one invocation knows of its own time, and of how often the queue has tried its message. */
export interface InvocationBudget {
  readonly invocationId: string;
  /** How many times the queue has delivered this message, this time included. */
  readonly receiveCount: number;
  remainingMs(): number;
}

export interface LeasedJobSettings {
  /** Time kept back at the end of an invocation for checkpointing and handing over. */
  readonly safetyMarginMs: number;
  /**
   * How long past the invocation's own deadline its lease lasts. The queue's visibility timeout must exceed the
   * function timeout plus this, so a crashed invocation's message comes back only once its lease has lapsed.
   */
  readonly leaseGraceMs: number;
  /**
   * The queue's maxReceiveCount: on the last attempt a failing job's record is marked for the dead-letter queue
   * (`stalled` for a send, `poisoned` for a download), from which a redrive resumes it.
   */
  readonly maxAttempts: number;
}

/** A job's settings and its checkpoint size for hashing, from a function's environment (send and download alike). */
export function readLeasedJobSettings(
  read: EnvReader,
): LeasedJobSettings & { readonly hashCheckpointBytes: number } {
  return {
    safetyMarginMs: read.setting(TUNING.safetyMarginMs),
    leaseGraceMs: read.setting(TUNING.leaseGraceMs),
    maxAttempts: read.setting(TUNING.maxReceiveCount),
    hashCheckpointBytes: read.setting(TUNING.hashCheckpointBytes),
  };
}

/** The lease calls of a LeasedStore a job makes. */
export interface JobLeases<R extends LeasedRecord> {
  acquireLease(id: string, owner: string, leaseMs: number): Promise<LeaseResult<R>>;
  releaseLease(id: string, owner: string): Promise<void>;
}

/** Takes the record's lease for the rest of this invocation and the grace after it. */
export function acquireJobLease<R extends LeasedRecord>(
  leases: Pick<JobLeases<R>, 'acquireLease'>,
  id: string,
  budget: InvocationBudget,
  settings: Pick<LeasedJobSettings, 'leaseGraceMs'>,
): Promise<LeaseResult<R>> {
  return leases.acquireLease(id, budget.invocationId, budget.remainingMs() + settings.leaseGraceMs);
}

/** If this attempt fails too, the queue dead-letters the message. */
export function isLastAttempt(
  budget: InvocationBudget,
  settings: Pick<LeasedJobSettings, 'maxAttempts'>,
): boolean {
  return budget.receiveCount >= settings.maxAttempts;
}

/** Less time is left than the safety margin plus `reserveMs` (room for the next step of the work). */
export function timeRunsOut(
  budget: InvocationBudget,
  settings: Pick<LeasedJobSettings, 'safetyMarginMs'>,
  reserveMs = 0,
): boolean {
  return budget.remainingMs() < settings.safetyMarginMs + reserveMs;
}

/**
 * Gives the lease up, then queues the continuation. In that order, so that the continuation finds the record free;
 * a crash between the two fails this invocation, and its own message comes back to carry the job on.
 */
export async function handOver(
  leases: Pick<JobLeases<LeasedRecord>, 'releaseLease'>,
  id: string,
  budget: InvocationBudget,
  continuation: () => Promise<void>,
): Promise<void> {
  await leases.releaseLease(id, budget.invocationId);
  await continuation();
}

/** Where a job keeps the progress of reading an object back for its SHA-256. */
export interface HashCheckpoints {
  readonly from: HashProgress | undefined;
  /** Writes progress to the job's record, under its lease. */
  readonly save: (progress: HashProgress) => Promise<unknown>;
  readonly onRestart: (reason: string) => void;
}

/**
 * How a job reads an object back for its SHA-256 (resumableSha256): its progress checkpointed in the job's record,
 * pausing for a continuation when the time runs low, and never reading past the invocation's deadline.
 */
export function checkpointedHashOptions(
  budget: InvocationBudget,
  settings: Pick<LeasedJobSettings, 'safetyMarginMs'> & { readonly hashCheckpointBytes: number },
  checkpoints: HashCheckpoints,
): ResumableHashOptions {
  return {
    checkpointBytes: settings.hashCheckpointBytes,
    from: checkpoints.from,
    onCheckpoint: async (progress) => {
      await checkpoints.save(progress);
    },
    shouldPause: () => timeRunsOut(budget, settings),
    signal: invocationDeadline(budget),
    onRestart: checkpoints.onRestart,
  };
}
