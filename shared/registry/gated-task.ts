import type { EnvReader } from '../config/env.js';
import type { Log } from '../observability/ports.js';
import { TUNING } from '../wiring/pipeline.js';
import type { MailboxGate } from './mailbox-gate.js';
import type { TaskWaiting } from './task-parking.js';

export interface DeferSettings {
  /** Delay before a paused mailbox's task is looked at again (SQS allows at most 900). */
  readonly pausedRetrySeconds: number;
}

/**
 * Runs a queued task of a mailbox if its gate admits it. Otherwise the task waits without spending a receive (so
 * nothing is dead-lettered for waiting): a paused mailbox's task goes back on the queue, delayed, unchanged, until the
 * mailbox resumes; a task of a mailbox at its cap is set aside (parked) and put back on its queue when a task of its
 * mailbox ends and gives its slot back. Either way it comes back as a new message carrying the receives it had
 * already spent. The one exception: a task that has spent all its queue's receives (it failed every time) and finds
 * its mailbox at its cap is left to the queue, so that it reaches its dead-letter queue.
 */
export async function runGated<T>(
  gate: MailboxGate,
  mailboxId: string | undefined,
  task: {
    readonly id: string;
    readonly leaseMs: number;
    /** How many times this task was already set aside for a busy mailbox. */
    readonly deferrals?: number;
    /** How many times the task has been received, this time included, across the messages it came back as. */
    readonly receiveCount?: number;
    /** Its queue's maxReceiveCount. */
    readonly maxReceives?: number;
  },
  waiting: TaskWaiting,
  settings: DeferSettings,
  log: Log,
  work: () => Promise<T>,
): Promise<T | 'deferred'> {
  if (mailboxId === undefined) return work();
  let admission = await gate.admit(mailboxId, task.id, task.leaseMs);
  // This receive does no work, so it is not spent: the task comes back with the receives it had before.
  const spent = Math.max(0, (task.receiveCount ?? 1) - 1);
  if (admission.kind === 'paused') {
    await waiting.requeue(settings.pausedRetrySeconds, spent);
    log.info('task deferred: mailbox is paused', {
      mailbox: mailboxId,
      delaySeconds: settings.pausedRetrySeconds,
    });
    return 'deferred';
  }
  if (admission.kind === 'busy') {
    if (task.maxReceives !== undefined && (task.receiveCount ?? 1) >= task.maxReceives) {
      // Set aside again, it would come back as a new message forever and never reach its dead-letter queue.
      throw new ReceivesSpentError(mailboxId, task.maxReceives);
    }
    const deferrals = (task.deferrals ?? 0) + 1;
    const parked = await waiting.park(deferrals, spent);
    // A task that ended between the gate's answer and the parking woke nobody: ask once more now that this task
    // can be woken. If a slot is free after all, take it back and run.
    const again = await gate.admit(mailboxId, task.id, task.leaseMs);
    if (again.kind === 'paused' || again.kind === 'busy') {
      log.info('task set aside: mailbox is at its concurrency cap', { mailbox: mailboxId, deferrals });
      return 'deferred';
    }
    await waiting.unpark(parked);
    admission = again;
  }
  try {
    return await work();
  } finally {
    await admission.release();
    if (admission.kind === 'admitted') await wakeNext(waiting, mailboxId, log);
  }
}

/**
 * A task that has spent its queue's receives and finds its mailbox at its cap: it is no longer set aside but left to
 * the queue, so that its waiting counts from now on and a task that keeps failing reaches its dead-letter queue.
 */
export class ReceivesSpentError extends Error {
  constructor(mailboxId: string, maxReceives: number) {
    super(
      `mailbox ${mailboxId} is at its concurrency cap and this task has been received ${maxReceives} times or more: it waits for the queue to deliver it again, and goes to the dead-letter queue if it keeps failing`,
    );
    this.name = 'ReceivesSpentError';
  }
}

/** A failed wake is not the task's failure: the task is done, and the poller's sweep wakes what was missed. */
async function wakeNext(waiting: TaskWaiting, mailboxId: string, log: Log): Promise<void> {
  try {
    await waiting.wakeNext();
  } catch (error) {
    log.warn('could not wake the next task set aside; the sweep will', {
      mailbox: mailboxId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

export interface GateSettings extends DeferSettings {
  readonly concurrency: number;
  /**
   * The longest a task holds its mailbox's slot without giving it back. A crashed invocation cannot give its slot
   * back, so a lease as long as the invocation (up to 15 minutes) would let two crashes shut a mailbox for that
   * long; a task that runs longer than this goes on with its slot lapsed (the cap is exceeded for a while, nothing
   * else is at risk: each transfer and message has its own lease).
   */
  readonly slotLeaseMs: number;
}

/** The lease of a task's slot: the invocation's time left, at most `slotLeaseMs`, plus the lease grace. */
export function slotLease(
  remainingMs: number,
  settings: Pick<GateSettings, 'slotLeaseMs'>,
  graceMs: number,
): number {
  return Math.min(remainingMs, settings.slotLeaseMs) + graceMs;
}

/** Reads the gate's settings from a function's environment. */
export function readGateSettings(read: EnvReader): GateSettings {
  return {
    concurrency: read.setting(TUNING.mailboxConcurrency),
    slotLeaseMs: read.setting(TUNING.slotLeaseSeconds) * 1000,
    pausedRetrySeconds: read.setting(TUNING.pausedRetrySeconds),
  };
}
