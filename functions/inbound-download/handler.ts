import { sqsBatchHandler } from '../../shared/aws/sqs-batch-handler.js';
import { parseDownloadTask } from '../../shared/inbound/download-task.js';
import type { MessageDownloader } from '../../shared/inbound/message-downloader.js';
import type { Log } from '../../shared/observability/ports.js';

/** SQS adapter of the download function: each record is one message to collect from one mailbox. */
export function createDownloadHandler(
  downloader: MessageDownloader,
  log: Log,
  servedMailboxes: readonly string[],
) {
  return sqsBatchHandler(
    'download',
    log,
    async (record, context) => {
      const task = parseDownloadTask(record.body);
      if (!servedMailboxes.includes(task.mailboxId)) {
        throw new Error(`download task for mailbox ${task.mailboxId}, which this function does not serve`);
      }
      const outcome = await downloader.process(task, {
        invocationId: `${context.awsRequestId}/${record.messageId}`,
        receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
        remainingMs: () => context.getRemainingTimeInMillis(),
      });
      return [outcome];
    },
    (record) => {
      const task = parseDownloadTask(record.body);
      return { mailbox: task.mailboxId, messageId: task.messageId };
    },
  );
}
