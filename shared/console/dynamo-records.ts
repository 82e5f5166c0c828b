import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InboundRecord } from '../inbound/inbound-record.js';
import type { TransferRecord } from '../outbound/transfer.js';
import type { ConsoleRecords } from './ports.js';

/** The fields a listing shows; the rest of a record (checkpoints, pending events, parts) never leaves the table. */
const TRANSFER_FIELDS = [
  'transferId',
  'status',
  'sender',
  'recipient',
  'workflowId',
  'localId',
  'subject',
  'fileName',
  'messageId',
  'bucket',
  'key',
  'versionId',
  'size',
  'totalChunks',
  'chunksSent',
  'bytesSent',
  'sha256',
  'attempts',
  'errorCode',
  'errorText',
  'createdAt',
  'updatedAt',
  'acceptedAt',
  'finishedAt',
  'leaseExpiresAt',
] as const;
const MESSAGE_FIELDS = [
  'mailboxId',
  'messageId',
  'status',
  'messageType',
  'sender',
  'workflowId',
  'subject',
  'localId',
  'fileName',
  'contentType',
  'bucket',
  'key',
  'versionId',
  'size',
  'sha256',
  'checksumVerified',
  'report',
  'attempts',
  'errorCode',
  'errorText',
  'createdAt',
  'updatedAt',
  'storedAt',
  'acknowledgedAt',
  'leaseExpiresAt',
] as const;

/** Scan segments read at once: DynamoDB serves each from its own partitions, so a listing takes a fraction as long. */
const SEGMENTS = 4;

/**
 * ConsoleRecords on the pipeline's table. The table has no index by mailbox (its indexes serve the pipeline: by
 * message id, local id and tracking time), so a listing is a parallel Scan filtered on the key layout
 * (`TRANSFER#{id}` with its sender, `INBOUND#{mailbox}#{message id}`), projected to the fields a page shows. That
 * costs a read of the whole table per listing: fine for the thousands of records a console looks at, and measured by
 * `npm run bench -- console`; a sparse index by mailbox and time is the next step when tables grow past that.
 */
export class DynamoConsoleRecords implements ConsoleRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async transfersOf(mailboxId: string): Promise<TransferRecord[]> {
    const items = await this.scan<TransferRecord>(
      TRANSFER_FIELDS,
      'begins_with(pk, :kind) AND #f_sender = :m',
      {
        ':kind': 'TRANSFER#',
        ':m': mailboxId,
      },
    );
    return items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async messagesOf(mailboxId: string): Promise<InboundRecord[]> {
    const items = await this.scan<InboundRecord>(MESSAGE_FIELDS, 'begins_with(pk, :kind)', {
      ':kind': `INBOUND#${mailboxId}#`,
    });
    return items.sort((a, b) => (b.storedAt ?? b.createdAt).localeCompare(a.storedAt ?? a.createdAt));
  }

  /** One Scan for the operations page: stalled transfers, and every inbound message not yet acknowledged. */
  async needingAttention() {
    const items = await this.scan<(TransferRecord | InboundRecord) & { pk: string }>(
      [...new Set(['pk', ...TRANSFER_FIELDS, ...MESSAGE_FIELDS])],
      '(begins_with(#f_pk, :transfer) AND #f_status = :stalled) OR ' +
        '(begins_with(#f_pk, :inbound) AND #f_status <> :done)',
      { ':transfer': 'TRANSFER#', ':stalled': 'stalled', ':inbound': 'INBOUND#', ':done': 'acknowledged' },
    );
    const transfers = items.filter((i) => i.pk.startsWith('TRANSFER#')).map((i) => strip<TransferRecord>(i));
    const waiting = items.filter((i) => i.pk.startsWith('INBOUND#')).map((i) => strip<InboundRecord>(i));
    const backlog: Record<string, number> = {};
    for (const m of waiting) backlog[m.mailboxId] = (backlog[m.mailboxId] ?? 0) + 1;
    return {
      transfers: transfers.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)),
      messages: waiting
        .filter((m) => m.status === 'poisoned')
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)),
      backlog,
    };
  }

  private async scan<R>(
    fields: readonly string[],
    filter: string,
    values: Record<string, unknown>,
  ): Promise<R[]> {
    // Every field by a placeholder: status, size, key and bucket are DynamoDB reserved words.
    const names = Object.fromEntries(fields.map((f) => [`#f_${f}`, f]));
    const segments = await Promise.all(
      Array.from({ length: SEGMENTS }, async (_, segment) => {
        const found: R[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const page = await this.db.send(
            new ScanCommand({
              TableName: this.tableName,
              Segment: segment,
              TotalSegments: SEGMENTS,
              FilterExpression: filter,
              ProjectionExpression: Object.keys(names).join(', '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ExclusiveStartKey: start,
            }),
          );
          for (const item of page.Items ?? []) found.push(item as R);
          start = page.LastEvaluatedKey;
        } while (start);
        return found;
      }),
    );
    return segments.flat();
  }
}

function strip<R>(item: { pk: string }): R {
  const { pk: _pk, ...record } = item;
  return record as R;
}
