import type { Log } from '../../shared/observability/ports.js';
import { sqsBatchHandler } from '../../shared/aws/sqs-batch-handler.js';
import { senderFromKey } from '../../shared/outbound/addressing.js';
import { parseSendMessage } from '../../shared/outbound/send-task.js';
import { transferIdFor, type OutboundSender } from '../../shared/outbound/send-transfer.js';

/** SQS adapter of the send function: each record is an S3 event notification or a continuation. */
export function createSendHandler(sender: OutboundSender, log: Log, servedMailboxes: readonly string[]) {
  return sqsBatchHandler(
    'send',
    log,
    async (record, context) => {
      const outcomes = [];
      for (const task of parseSendMessage(record.body)) {
        outcomes.push(
          await sender.process(task, {
            invocationId: `${context.awsRequestId}/${record.messageId}`,
            receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
            remainingMs: () => context.getRemainingTimeInMillis(),
          }),
        );
      }
      return outcomes;
    },
    (record) => {
      const served = servedMailboxes.join(',');
      const [task] = parseSendMessage(record.body);
      if (!task) return { mailbox: served };
      if (task.kind === 'continue') return { mailbox: served, transferId: task.transferId };
      return { mailbox: senderFromKey(task.object.key) ?? served, transferId: transferIdFor(task.object) };
    },
  );
}
