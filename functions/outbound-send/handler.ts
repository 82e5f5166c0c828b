import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Log } from '../../shared/observability/ports.js';
import { errorFields } from '../../shared/observability/ports.js';
import { parseSendMessage } from '../../shared/outbound/send-task.js';
import type { OutboundSender, SendOutcome } from '../../shared/outbound/send-transfer.js';

/**
 * SQS adapter of the send function: each record is an S3 event or a continuation. A record that fails is
 * reported alone, so the queue retries it (and in the end moves it to the DLQ) without redoing the others.
 */
export function createSendHandler(sender: OutboundSender, log: Log) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const outcomes: SendOutcome[] = [];
    const processor = new BatchProcessor(EventType.SQS);
    const handleRecord = async (record: SQSRecord) => {
      try {
        for (const task of parseSendMessage(record.body)) {
          outcomes.push(
            await sender.process(task, {
              invocationId: `${context.awsRequestId}/${record.messageId}`,
              remainingMs: () => context.getRemainingTimeInMillis(),
            }),
          );
        }
      } catch (error) {
        log.error('send-queue record failed', {
          sqsMessageId: record.messageId,
          receiveCount: record.attributes.ApproximateReceiveCount,
          ...errorFields(error),
        });
        throw error;
      }
    };
    const response = await processPartialResponse(event, handleRecord, processor, {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
    log.info('send batch done', {
      records: event.Records.length,
      failed: response.batchItemFailures.length,
      outcomes: countBy(outcomes),
    });
    return response;
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
