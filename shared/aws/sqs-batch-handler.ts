import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorFields, type Log } from '../observability/ports.js';

/**
 * An SQS-triggered handler that processes records one at a time and reports each failure on its own, so the
 * queue retries (and in the end dead-letters) only the records that failed. One summary line per batch.
 */
export function sqsBatchHandler<O extends string>(
  name: string,
  log: Log,
  handleRecord: (record: SQSRecord, context: Context) => Promise<readonly O[]>,
) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const outcomes: Record<string, number> = {};
    const processor = new BatchProcessor(EventType.SQS);
    const response = await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        try {
          for (const outcome of await handleRecord(record, context))
            outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        } catch (error) {
          log.error(`${name} record failed`, {
            sqsMessageId: record.messageId,
            receiveCount: record.attributes.ApproximateReceiveCount,
            ...errorFields(error),
          });
          throw error;
        }
      },
      processor,
      { context, processInParallel: false, throwOnFullBatchFailure: false },
    );
    log.info(`${name} batch done`, {
      records: event.Records.length,
      failed: response.batchItemFailures.length,
      outcomes,
    });
    return response;
  };
}
