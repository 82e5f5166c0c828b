import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorFields, type Log } from '../observability/ports.js';
import { RecordBusyError } from '../state/leased-store.js';

/**
 * An SQS-triggered handler that processes records one at a time and reports each failure on its own, so the
 * queue retries (and in the end dead-letters) only the records that failed. One summary line per batch.
 */
export function sqsBatchHandler<O extends string>(
  name: string,
  log: Log,
  handleRecord: (record: SQSRecord, context: Context) => Promise<readonly O[]>,
  /** Correlation keys of a record (mailbox, message or transfer id) for its failure log line; never its payload. */
  keysOf: (record: SQSRecord) => Record<string, unknown> = () => ({}),
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
          if (error instanceof RecordBusyError) {
            log.info(`${name} record left for later: another invocation is working on it`, {
              ...safeKeys(keysOf, record),
              sqsMessageId: record.messageId,
            });
            throw error;
          }
          log.error(`${name} record failed`, {
            ...safeKeys(keysOf, record),
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

/** A record that cannot even be parsed for its keys still gets its failure logged. */
function safeKeys(
  keysOf: (record: SQSRecord) => Record<string, unknown>,
  record: SQSRecord,
): Record<string, unknown> {
  try {
    return keysOf(record);
  } catch {
    return {};
  }
}
