import type { EnvReader } from '../config/env.js';
import type { Log } from '../observability/ports.js';
import { DEFAULT_MAILBOX_CONCURRENCY, ENV } from '../wiring/pipeline.js';
import type { MailboxGate } from './mailbox-gate.js';

export interface DeferSettings {
  /** Delay before a paused mailbox's task is looked at again (SQS allows at most 900). */
  readonly pausedRetrySeconds: number;
  /** Delay before a task of a mailbox at its concurrency cap is tried again. */
  readonly busyRetrySeconds: number;
}

/**
 * Runs a queued task of a mailbox if its gate admits it, or puts the same message back on the queue, delayed, in
 * the mailbox's group: a paused mailbox's work waits unchanged until it resumes, and a mailbox at its cap waits its
 * turn, without either counting towards the message's receives (so nothing is dead-lettered for waiting).
 */
export async function runGated<T>(
  gate: MailboxGate,
  mailboxId: string | undefined,
  holder: { readonly id: string; readonly leaseMs: number },
  requeue: (delaySeconds: number) => Promise<void>,
  settings: DeferSettings,
  log: Log,
  work: () => Promise<T>,
): Promise<T | 'deferred'> {
  if (mailboxId === undefined) return work();
  const admission = await gate.admit(mailboxId, holder.id, holder.leaseMs);
  if (admission.kind === 'paused' || admission.kind === 'busy') {
    const delay = admission.kind === 'paused' ? settings.pausedRetrySeconds : settings.busyRetrySeconds;
    await requeue(delay);
    log.info(
      `task deferred: mailbox ${admission.kind === 'paused' ? 'is paused' : 'is at its concurrency cap'}`,
      {
        mailbox: mailboxId,
        delaySeconds: delay,
      },
    );
    return 'deferred';
  }
  try {
    return await work();
  } finally {
    await admission.release();
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
    concurrency: read.integer(ENV.mailboxConcurrency, DEFAULT_MAILBOX_CONCURRENCY, { min: 1, max: 100 }),
    slotLeaseMs: read.integer('SLOT_LEASE_SECONDS', 120, { min: 1, max: 900 }) * 1000,
    pausedRetrySeconds: read.integer('PAUSED_RETRY_SECONDS', 300, { min: 0, max: 900 }),
    busyRetrySeconds: read.integer('BUSY_RETRY_SECONDS', 30, { min: 0, max: 900 }),
  };
}
