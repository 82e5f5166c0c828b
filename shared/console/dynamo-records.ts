import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InboundRecord } from '../inbound/inbound-record.js';
import type { TransferRecord } from '../outbound/transfer.js';
import { mailboxListPartition, mailboxListStartKey, type MailboxList } from '../state/mailbox-index.js';
import { TABLE_INDEXES } from '../state/table.js';
import { InvalidRequestError } from './errors.js';
import { readPage, type OrderedList, type PageRequest, type Positioned } from './list-reader.js';
import { BAD_CURSOR, type Page } from './paging.js';
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

const INDEX = TABLE_INDEXES.byMailbox;
/** Scan segments read at once: DynamoDB serves each from its own partitions, so the scan takes a fraction as long. */
const SEGMENTS = 4;
/** The most index entries one look for a transfer's reports reads (messages received since the transfer began). */
const MAX_REPORT_READ = 5_000;

/**
 * ConsoleRecords on the pipeline's table. A mailbox's listings are Queries of the byMailbox index
 * (shared/state/mailbox-index.ts): one partition per mailbox and direction, newest first, read only as far as a page
 * needs, so a page costs the same in a table of a thousand records or of millions. Records written before the index
 * existed have no entry in it until `backfillMailboxIndex` has run (see the CHANGELOG).
 *
 * The operators' overview (stalled transfers, poisoned messages, inbox backlogs of every mailbox) is still one
 * parallel Scan: no index holds records by status, and the stores give their records keys only when they are
 * created. It is read when an operator opens the operations page, not per listing.
 */
export class DynamoConsoleRecords implements ConsoleRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  transfersOf(mailboxId: string, request: PageRequest<TransferRecord>): Promise<Page<TransferRecord>> {
    return readPage(
      this.list<TransferRecord>('outbox', mailboxId, TRANSFER_FIELDS),
      this.checked('outbox', mailboxId, request),
    );
  }

  messagesOf(mailboxId: string, request: PageRequest<InboundRecord>): Promise<Page<InboundRecord>> {
    return readPage(
      this.list<InboundRecord>('inbox', mailboxId, MESSAGE_FIELDS),
      this.checked('inbox', mailboxId, request),
    );
  }

  /**
   * Reports come after the transfer they concern, so only the mailbox's messages received since it was created are
   * read, and DynamoDB's filter sends back only the reports about it.
   */
  async reportsAbout(
    mailboxId: string,
    transfer: Pick<TransferRecord, 'transferId' | 'messageId' | 'createdAt'>,
  ): Promise<InboundRecord[]> {
    const names = {
      ...fieldNames(MESSAGE_FIELDS),
      '#p': INDEX.partition,
      '#s': INDEX.sort,
      '#type': 'messageType',
    };
    const reports: InboundRecord[] = [];
    let start: Record<string, unknown> | undefined;
    let read = 0;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX.name,
          KeyConditionExpression: '#p = :p AND #s >= :since',
          FilterExpression:
            '#type = :report AND (#f_report.linkedTransferId = :transfer OR #f_report.linkedMessageId = :message)',
          ProjectionExpression: Object.keys(fieldNames(MESSAGE_FIELDS)).join(', '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':p': mailboxListPartition('inbox', mailboxId),
            ':since': transfer.createdAt,
            ':report': 'REPORT',
            ':transfer': transfer.transferId,
            // A transfer not yet accepted has no message id: nothing can be linked by one.
            ':message': transfer.messageId ?? '-',
          },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) reports.push(item as InboundRecord);
      read += page.ScannedCount ?? 0;
      start = page.LastEvaluatedKey;
    } while (start && read < MAX_REPORT_READ);
    return reports;
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

  /** A cursor of another mailbox's list, or not of a list at all, is refused before anything is read. */
  private checked<R>(list: MailboxList, mailboxId: string, request: PageRequest<R>): PageRequest<R> {
    const { cursor } = request;
    if (cursor.kind !== 'offset' && !mailboxListStartKey(list, mailboxId, cursor.position)) {
      throw new InvalidRequestError([BAD_CURSOR]);
    }
    return request;
  }

  /** One mailbox's list in the index, read a batch at a time; each record comes with its position (its sort value). */
  private list<R>(list: MailboxList, mailboxId: string, fields: readonly string[]): OrderedList<R> {
    const names = { ...fieldNames(fields), '#p': INDEX.partition, '#s': INDEX.sort };
    return {
      read: async ({ newestFirst, from, limit }) => {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX.name,
            KeyConditionExpression: '#p = :p',
            ProjectionExpression: [...Object.keys(fieldNames(fields)), '#s'].join(', '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':p': mailboxListPartition(list, mailboxId) },
            ScanIndexForward: !newestFirst,
            ExclusiveStartKey: from === undefined ? undefined : mailboxListStartKey(list, mailboxId, from),
            Limit: limit,
          }),
        );
        const items = (page.Items ?? []).map((item): Positioned<R> => {
          const { [INDEX.sort]: position, ...record } = item;
          return { record: record as R, position: String(position) };
        });
        const last = page.LastEvaluatedKey?.[INDEX.sort];
        return { items, last: typeof last === 'string' ? last : undefined };
      },
    };
  }

  private async scan<R>(
    fields: readonly string[],
    filter: string,
    values: Record<string, unknown>,
  ): Promise<R[]> {
    const names = fieldNames(fields);
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

/** Every field by a placeholder: status, size, key and bucket are DynamoDB reserved words. */
function fieldNames(fields: readonly string[]): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [`#f_${f}`, f]));
}

function strip<R>(item: { pk: string }): R {
  const { pk: _pk, ...record } = item;
  return record as R;
}
