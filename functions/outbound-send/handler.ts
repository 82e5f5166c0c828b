import { deferralsOf, receiveCountOf } from '../../shared/aws/fair-queue.js';
import type { Log } from '../../shared/observability/ports.js';
import { sqsBatchHandler } from '../../shared/aws/sqs-batch-handler.js';
import { senderFromKey } from '../../shared/outbound/addressing.js';
import { parseSendMessage } from '../../shared/outbound/send-task.js';
import { transferIdFor, type OutboundSender, type SendTask } from '../../shared/outbound/send-transfer.js';
import { runGated, slotLease, type GateSettings } from '../../shared/registry/gated-task.js';
import type { MailboxGate } from '../../shared/registry/mailbox-gate.js';
import type { ParkedTasks } from '../../shared/registry/parked-tasks.js';
import type { ParkedTaskWaker } from '../../shared/registry/task-parking.js';

export interface SendHandlerDeps {
  readonly sender: OutboundSender;
  readonly gate: MailboxGate;
  /** Puts a message back on the send queue, delayed, in the mailbox's group, with the receives it spent. */
  readonly requeue: (
    body: string,
    mailboxId: string | undefined,
    delaySeconds: number,
    receives: number,
  ) => Promise<void>;
  /** Tasks set aside while their mailbox is at its cap, and their waking. */
  readonly parked: Pick<ParkedTasks, 'park' | 'remove'>;
  readonly waker: ParkedTaskWaker;
  readonly defer: GateSettings;
  readonly leaseGraceMs: number;
  /** The send queue's maxReceiveCount. */
  readonly maxReceives: number;
  readonly log: Log;
}

/** The sending mailbox of a task: from the key of a new object, or carried by a continuation. */
function mailboxOfTask(task: SendTask | undefined): string | undefined {
  if (!task) return undefined;
  return task.kind === 'continue' ? task.mailboxId : senderFromKey(task.object.key);
}

/**
 * SQS adapter of the send function: each record is an S3 event notification or a continuation. The record's
 * mailbox must be admitted (not paused, under its concurrency cap) before any of it is worked on.
 */
export function createSendHandler(deps: SendHandlerDeps) {
  const { sender, log } = deps;
  return sqsBatchHandler(
    'send',
    log,
    async (record, context) => {
      const tasks = parseSendMessage(record.body);
      const mailboxId = mailboxOfTask(tasks[0]);
      const invocationId = `${context.awsRequestId}/${record.messageId}`;
      const receiveCount = receiveCountOf(record);
      const outcomes = await runGated(
        deps.gate,
        mailboxId,
        {
          id: invocationId,
          leaseMs: slotLease(context.getRemainingTimeInMillis(), deps.defer, deps.leaseGraceMs),
          deferrals: deferralsOf(record),
          receiveCount,
          maxReceives: deps.maxReceives,
        },
        deps.waker.waitingOf(
          // A continuation of a transfer under way gave its slot up only to hand over: it goes before files not
          // yet started, or a half-sent transfer would wait behind all of them.
          {
            mailboxId: mailboxId ?? '',
            queue: 'send',
            body: record.body,
            first: tasks[0]?.kind === 'continue',
          },
          deps.parked,
          (delay, receives) => deps.requeue(record.body, mailboxId, delay, receives),
        ),
        deps.defer,
        log,
        async () => {
          const done = [];
          for (const task of tasks) {
            done.push(
              await sender.process(task, {
                invocationId,
                receiveCount,
                remainingMs: () => context.getRemainingTimeInMillis(),
              }),
            );
          }
          return done;
        },
      );
      return outcomes === 'deferred' ? ['deferred' as const] : outcomes;
    },
    (record) => {
      const [task] = parseSendMessage(record.body);
      if (!task) return {};
      if (task.kind === 'continue') return { mailbox: task.mailboxId, transferId: task.transferId };
      return { mailbox: senderFromKey(task.object.key), transferId: transferIdFor(task.object) };
    },
  );
}
