import type { EnvReader } from '../config/env.js';
import type { Log } from '../observability/ports.js';
import { TUNING } from '../wiring/pipeline.js';
import type { MailboxGate } from './mailbox-gate.js';

export interface DeferSettings {
  /** Delay before a paused mailbox's task is looked at again (SQS allows at most 900). */
  readonly pausedRetrySeconds: number;
  /** Delay before a task of a mailbox at its concurrency cap is tried again. */
  readonly busyRetrySeconds: number;
}

/** SQS's longest message delay. */
const MAX_DELAY_SECONDS = 900;

/**
 * Runs a queued task of a mailbox if its gate admits it, or puts the same message back on the queue, delayed, in
 * the mailbox's group: a paused mailbox's work waits unchanged until it resumes, and a mailbox at its cap waits its
 * turn, without either counting towards the message's receives (so nothing is dead-lettered for waiting).
 *
 * A task turned away for a busy mailbox waits twice as long each time (jittered), up to 16 times as long: with a fixed
 * delay, a mailbox with thousands of messages queued would have every spare invocation of the fleet take one of
 * them, find the cap reached and put it back, again and again, for as long as the backlog lasts.
 */
export async function runGated<T>(
  gate: MailboxGate,
  mailboxId: string | undefined,
  task: {
    readonly id: string;
    readonly leaseMs: number;
    /** How many times this task was already put back for a busy mailbox. */
    readonly deferrals?: number;
  },
  requeue: (delaySeconds: number, deferrals: number) => Promise<void>,
  settings: DeferSettings,
  log: Log,
  work: () => Promise<T>,
  random: () => number = Math.random,
): Promise<T | 'deferred'> {
  if (mailboxId === undefined) return work();
  const admission = await gate.admit(mailboxId, task.id, task.leaseMs);
  if (admission.kind === 'paused' || admission.kind === 'busy') {
    const deferrals = task.deferrals ?? 0;
    const delay =
      admission.kind === 'paused'
        ? settings.pausedRetrySeconds
        : busyDelaySeconds(settings.busyRetrySeconds, deferrals, random);
    // A paused mailbox's wait says nothing of how busy it is: its tasks start counting again when it resumes.
    const next = admission.kind === 'paused' ? 0 : deferrals + 1;
    await requeue(delay, next);
    log.info(
      `task deferred: mailbox ${admission.kind === 'paused' ? 'is paused' : 'is at its concurrency cap'}`,
      { mailbox: mailboxId, delaySeconds: delay, deferrals: next },
    );
    return 'deferred';
  }
  try {
    return await work();
  } finally {
    await admission.release();
  }
}

/**
 * `base` doubled per earlier deferral up to 16 times `base` (8 minutes in AWS; a bound that shrinks with `base` in
 * shortened local runs) and SQS's 900 s, the upper half jittered so a backlog spreads out.
 */
export function busyDelaySeconds(
  base: number,
  deferrals: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(MAX_DELAY_SECONDS, base * 2 ** Math.min(deferrals, 4));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
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
    busyRetrySeconds: read.setting(TUNING.busyRetrySeconds),
  };
}
