/**
 * The pipeline's queues: what each is (fair, FIFO), how often a message is received before it moves to the DLQ, and
 * which function consumes it; the event relay's timings (EVENT_RELAY), which the relay queue and function are built
 * from; and the visibility timeout a queue gets from its consumer's timeout.
 */

import type { FunctionName, QueueName } from './names.js';

export interface QueueSpec {
  /**
   * A standard queue shared fairly between mailboxes: every message the pipeline sends to it carries the mailbox as
   * MessageGroupId (SQS fair queues), so a mailbox with a backlog does not hold up the others' messages.
   */
  readonly fairByMailbox?: boolean;
  /**
   * FIFO, with the event id as deduplication id: a repeat of the same event within SQS's five-minute window is
   * dropped by SQS, and each transfer's or message's events stay in order (message group).
   */
  readonly fifo: boolean;
  /** Receives before a message moves to the queue's DLQ. Event queues have DLQs for their consumers. */
  readonly maxReceiveCount: number;
  /** The function that consumes it, when the pipeline does; event queues are for the user's own consumers. */
  readonly consumer?: FunctionName;
  /** A fixed visibility timeout; without one it follows from the consumer's timeout (visibilityTimeoutSeconds). */
  readonly visibilityTimeoutSeconds?: number;
}

/**
 * The event relay: every publish of a pending event is preceded by a delayed "re-check" message on the relay queue,
 * so that a crash between publishing an event and clearing it is retried inside the FIFO queues' five-minute
 * deduplication window, not after the crashed function's own visibility timeout (up to 1,020 s). The relay's own
 * retries must land inside that window too: its last receive comes at
 * delaySeconds + (maxReceiveCount - 1) x visibilityTimeoutSeconds, plus one invocation, after the first publish.
 */
export const EVENT_RELAY = {
  /** How long after a publish begins the relay looks for it still pending. */
  delaySeconds: 60,
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 5,
  functionTimeoutSeconds: 20,
  /** SQS FIFO deduplication window: a repeat with the same id inside it is dropped. */
  deduplicationWindowSeconds: 300,
} as const;

/** Seconds after a publish began by which the relay's last attempt has finished. */
export function relayLastAttemptSeconds(relay: {
  delaySeconds: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  functionTimeoutSeconds: number;
}): number {
  return (
    relay.delaySeconds +
    (relay.maxReceiveCount - 1) * relay.visibilityTimeoutSeconds +
    relay.functionTimeoutSeconds
  );
}

export const QUEUES: Readonly<Record<QueueName, QueueSpec>> = {
  send: { fairByMailbox: true, fifo: false, maxReceiveCount: 8, consumer: 'outboundSend' },
  download: { fairByMailbox: true, fifo: false, maxReceiveCount: 8, consumer: 'inboundDownload' },
  inboundEvents: { fifo: true, maxReceiveCount: 5 },
  outboundStatus: { fifo: true, maxReceiveCount: 5 },
  eventRelay: {
    fifo: false,
    maxReceiveCount: EVENT_RELAY.maxReceiveCount,
    consumer: 'eventRelay',
    visibilityTimeoutSeconds: EVENT_RELAY.visibilityTimeoutSeconds,
  },
};

/**
 * The SQS visibility timeout for a queue consumed by a function with this timeout. It must exceed the timeout plus
 * the lease grace (LEASE_GRACE_MS, 60 s), so a crashed invocation's message comes back only after its lease has lapsed.
 */
export function visibilityTimeoutSeconds(functionTimeoutSeconds: number): number {
  return functionTimeoutSeconds + 120;
}
