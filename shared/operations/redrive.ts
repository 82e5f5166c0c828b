import type { SQSClient } from '@aws-sdk/client-sqs';
import { downloadTaskBody } from '../inbound/download-task.js';
import type { InboundRecord } from '../inbound/inbound-record.js';
import { senderFromKey } from '../outbound/addressing.js';
import { continuationBody } from '../outbound/send-task.js';
import { FINAL_STATUSES, type TransferRecord } from '../outbound/transfer.js';
import { InboundStore } from '../state/inbound-store.js';
import { mailboxOfTask, redriveDeadLetters, type DeadLetterRedrive } from './dead-letters.js';
import { findOneTransfer, NotFoundError, type FindTransferDeps } from './find-transfer.js';
import type { InboundLookup, PipelineLocation, TaskQueues, TransferLookup, WorkQueueName } from './ports.js';

/** The record is not in a state a redrive can help (finished, or being worked on right now). */
export class RedriveRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedriveRefusedError';
  }
}

export interface RedriveTransferDeps extends FindTransferDeps {
  readonly queues: TaskQueues;
  readonly now?: () => Date;
}

export interface RedrivenTransfer {
  readonly transferId: string;
  readonly mailboxId: string;
  /** The status it had when the continuation was queued. */
  readonly status: TransferRecord['status'];
  readonly chunksSent: number;
  readonly totalChunks?: number;
  readonly messageId?: string;
}

/**
 * Resumes a stalled transfer: a continuation message for it goes on the send queue (message group: its mailbox),
 * and the send function takes the transfer's lease and carries on from its last checkpoint (`stalled` → `sending`).
 * Its original message may still sit in the send DLQ; moved back later, it finds the transfer taken care of and is
 * dropped. A transfer that is not stalled is refused unless `force` (a continuation is always safe, the lease sees
 * to that, but seldom useful); a finished one, or one whose lease is held right now, always.
 */
export async function redriveTransfer(
  deps: RedriveTransferDeps,
  reference: string,
  options: { mailbox?: string; force?: boolean } = {},
): Promise<RedrivenTransfer> {
  const record = await findOneTransfer(deps, reference, options);
  const now = (deps.now ?? (() => new Date()))().getTime();
  if (FINAL_STATUSES.has(record.status) || record.status === 'accepted') {
    throw new RedriveRefusedError(
      `transfer ${record.transferId} is ${record.status}: there is nothing left to send`,
    );
  }
  if (record.leaseExpiresAt !== undefined && record.leaseExpiresAt > now) {
    throw new RedriveRefusedError(
      `transfer ${record.transferId} is being sent right now (its lease runs to ` +
        `${new Date(record.leaseExpiresAt).toISOString()}); try again after that if it is still stuck`,
    );
  }
  if (record.status !== 'stalled' && !options.force) {
    throw new RedriveRefusedError(
      `transfer ${record.transferId} is ${record.status}, not stalled: its own messages should carry it on ` +
        '(use --force to queue a continuation anyway)',
    );
  }
  const mailboxId = record.sender ?? senderFromKey(record.key);
  if (!mailboxId) {
    throw new RedriveRefusedError(`transfer ${record.transferId} has no sending mailbox (key ${record.key})`);
  }
  await deps.queues.enqueue('send', continuationBody(record.transferId, mailboxId), mailboxId);
  return {
    transferId: record.transferId,
    mailboxId,
    status: record.status,
    chunksSent: record.chunksSent,
    totalChunks: record.totalChunks,
    messageId: record.messageId,
  };
}

export interface RedriveMessageDeps {
  readonly inbound: InboundLookup;
  readonly queues: TaskQueues;
  readonly now?: () => Date;
}

/**
 * Gives a poisoned inbound message a fresh download task. The record goes `poisoned` → `queued` through the
 * store's own transition (the same rank: nothing moves backwards, and it is refused if the record moved on
 * meanwhile), with its queue time set so the poller does not queue a second task too; then a download task goes on
 * the download queue with the mailbox as message group. Its earlier failure stays on the record until the new
 * attempt replaces it. A message that is not poisoned is refused unless `force` and it is still waiting
 * (`queued` or `downloading` with no live lease): a stored or acknowledged one never gets another download.
 */
export async function redriveMessage(
  deps: RedriveMessageDeps,
  mailboxId: string,
  messageId: string,
  options: { force?: boolean } = {},
): Promise<InboundRecord> {
  const id = InboundStore.idOf(mailboxId, messageId);
  const record = await deps.inbound.get(id);
  if (!record) throw new NotFoundError(`no inbound message ${messageId} of ${mailboxId}`);
  const now = (deps.now ?? (() => new Date()))().getTime();
  if (record.status === 'stored' || record.status === 'acknowledged') {
    throw new RedriveRefusedError(
      `message ${messageId} of ${mailboxId} is ${record.status}: it is never downloaded again` +
        (record.status === 'stored'
          ? ' (the poller queues its acknowledgement while MESH still lists it)'
          : ''),
    );
  }
  if (record.leaseExpiresAt !== undefined && record.leaseExpiresAt > now) {
    throw new RedriveRefusedError(
      `message ${messageId} of ${mailboxId} is being downloaded right now (its lease runs to ` +
        `${new Date(record.leaseExpiresAt).toISOString()})`,
    );
  }
  if (record.status !== 'poisoned' && !options.force) {
    throw new RedriveRefusedError(
      `message ${messageId} of ${mailboxId} is ${record.status}, not poisoned: its task is still on its way ` +
        '(use --force to queue another anyway)',
    );
  }
  // A forced task for a message still waiting only notes the queue time: its status is its progress.
  const moved = await deps.inbound.transition(
    id,
    [record.status],
    record.status === 'poisoned' ? { status: 'queued', lastQueuedAt: now } : { lastQueuedAt: now },
  );
  if (!moved) {
    const current = await deps.inbound.get(id);
    throw new RedriveRefusedError(
      `message ${messageId} of ${mailboxId} moved on to ${current?.status ?? 'nothing'} meanwhile; nothing was queued`,
    );
  }
  await deps.queues.enqueue('download', downloadTaskBody(mailboxId, messageId), mailboxId);
  return moved;
}

export interface RedriveDlqDeps {
  readonly sqs: SQSClient;
  readonly location: PipelineLocation;
  readonly transfers: Pick<TransferLookup, 'get'>;
}

/**
 * Moves every message of a work queue's DLQ back to the queue, each under its mailbox's message group: the group it
 * carried, else the mailbox its body names, else (a continuation) the sending mailbox of its transfer. A message
 * whose mailbox cannot be told stays in the DLQ and is counted.
 */
export async function redriveDlq(
  deps: RedriveDlqDeps,
  queue: WorkQueueName,
): Promise<DeadLetterRedrive & { readonly queue: WorkQueueName }> {
  const { url, dlqUrl } = deps.location.queues[queue];
  const result = await redriveDeadLetters(deps.sqs, dlqUrl, url, {
    requireGroup: true,
    waitSeconds: 1,
    groupOf: async (message) =>
      message.groupId ??
      mailboxOfTask(message.body) ??
      (queue === 'send' ? await mailboxOfContinuation(deps.transfers, message.body) : undefined),
  });
  return { queue, ...result };
}

async function mailboxOfContinuation(
  transfers: Pick<TransferLookup, 'get'>,
  body: string,
): Promise<string | undefined> {
  let transferId: unknown;
  try {
    transferId = (JSON.parse(body) as { transferId?: unknown }).transferId;
  } catch {
    return undefined;
  }
  if (typeof transferId !== 'string' || !/^[0-9a-f]{32}$/.test(transferId)) return undefined;
  const record = await transfers.get(transferId);
  return record ? (record.sender ?? senderFromKey(record.key)) : undefined;
}
