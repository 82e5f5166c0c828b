import type { Log } from '../../shared/observability/ports.js';
import { sqsBatchHandler } from '../../shared/aws/sqs-batch-handler.js';
import { parseSendMessage } from '../../shared/outbound/send-task.js';
import { transferIdFor, type OutboundSender } from '../../shared/outbound/send-transfer.js';

/** SQS adapter of the send function: each record is an S3 event notification or a continuation. */
export function createSendHandler(sender: OutboundSender, log: Log) {
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
      const [task] = parseSendMessage(record.body);
      if (!task) return {};
      if (task.kind === 'continue') return { transferId: task.transferId };
      return { transferId: transferIdFor(task.object), bucket: task.object.bucket, key: task.object.key };
    },
  );
}
