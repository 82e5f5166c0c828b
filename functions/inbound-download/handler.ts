import { deferralsOf, receiveCountOf } from '../../shared/aws/fair-queue.js';
import { sqsBatchHandler } from '../../shared/aws/sqs-batch-handler.js';
import { parseDownloadTask } from '../../shared/inbound/download-task.js';
import type { MessageDownloader } from '../../shared/inbound/message-downloader.js';
import type { Log } from '../../shared/observability/ports.js';
import { runGated, slotLease, type GateSettings } from '../../shared/registry/gated-task.js';
import type { MailboxGate } from '../../shared/registry/mailbox-gate.js';
import type { ParkedTasks } from '../../shared/registry/parked-tasks.js';
import type { ParkedTaskWaker } from '../../shared/registry/task-parking.js';

/** SQS adapter of the download function: each record is one message to collect from one mailbox. */
export function createDownloadHandler(
  downloader: MessageDownloader,
  gate: MailboxGate,
  requeue: (body: string, mailboxId: string, delaySeconds: number, receives: number) => Promise<void>,
  parking: { readonly parked: Pick<ParkedTasks, 'park' | 'remove'>; readonly waker: ParkedTaskWaker },
  defer: GateSettings,
  leaseGraceMs: number,
  /** The download queue's maxReceiveCount. */
  maxReceives: number,
  log: Log,
) {
  return sqsBatchHandler(
    'download',
    log,
    async (record, context) => {
      const task = parseDownloadTask(record.body);
      const invocationId = `${context.awsRequestId}/${record.messageId}`;
      const receiveCount = receiveCountOf(record);
      const outcome = await runGated(
        gate,
        task.mailboxId,
        {
          id: invocationId,
          leaseMs: slotLease(context.getRemainingTimeInMillis(), defer, leaseGraceMs),
          deferrals: deferralsOf(record),
          receiveCount,
          maxReceives,
        },
        parking.waker.waitingOf(
          { mailboxId: task.mailboxId, queue: 'download', body: record.body },
          parking.parked,
          (delay, receives) => requeue(record.body, task.mailboxId, delay, receives),
        ),
        defer,
        log,
        () =>
          downloader.process(task, {
            invocationId,
            receiveCount,
            remainingMs: () => context.getRemainingTimeInMillis(),
          }),
      );
      return [outcome];
    },
    (record) => {
      const task = parseDownloadTask(record.body);
      return { mailbox: task.mailboxId, messageId: task.messageId };
    },
  );
}
