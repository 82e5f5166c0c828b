import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { senderFromKey } from '../outbound/addressing.js';
import { TABLE_INDEXES } from './table.js';

/**
 * The byMailbox index (table.ts): each mailbox's outbound transfers and inbound messages, in the order they were
 * created. One partition per mailbox and direction, so a listing reads one mailbox's records and nothing else; its
 * sort key `{createdAt}#{id}` orders by time (ISO times sort as strings) and is unique. A mailbox creating more than
 * a thousand records a second would outrun one index partition's writes; MESH's own rates are far below that.
 */
export type MailboxList = 'outbox' | 'inbox';

const PARTITION_PREFIX: Readonly<Record<MailboxList, string>> = { outbox: 'OUTBOX#', inbox: 'INBOX#' };
const INDEX = TABLE_INDEXES.byMailbox;

/** The index partition that holds one mailbox's list. */
export function mailboxListPartition(list: MailboxList, mailboxId: string): string {
  return `${PARTITION_PREFIX[list]}${mailboxId}`;
}

/** The index attributes of a record in a mailbox's list. */
export function mailboxIndexEntry(
  list: MailboxList,
  mailboxId: string,
  createdAt: string,
  id: string,
): Record<string, string> {
  return { [INDEX.partition]: mailboxListPartition(list, mailboxId), [INDEX.sort]: `${createdAt}#${id}` };
}

/**
 * A transfer's entry: it is listed under the mailbox its key is under (`outbound/{MAILBOX}/...`), which is the
 * sender the pipeline gives it. A key outside any mailbox's folder has none: such a file is rejected unsent.
 */
export function transferIndexEntry(record: {
  readonly transferId: string;
  readonly key: string;
  readonly createdAt: string;
  readonly sender?: string;
}): Record<string, string> {
  const sender = record.sender ?? senderFromKey(record.key);
  return sender ? mailboxIndexEntry('outbox', sender, record.createdAt, record.transferId) : {};
}

export function inboundIndexEntry(record: {
  readonly mailboxId: string;
  readonly messageId: string;
  readonly createdAt: string;
}): Record<string, string> {
  return mailboxIndexEntry('inbox', record.mailboxId, record.createdAt, record.messageId);
}

export interface BackfillResult {
  /** Records without an index entry found by the scan. */
  readonly found: number;
  /** Of those, given one now (the rest were removed, or given one by someone else, meanwhile). */
  readonly updated: number;
}

/**
 * Gives every transfer and inbound message written before the byMailbox index existed its index entry, so the
 * console lists it. Run once after upgrading (an operator's job, with the operator's own credentials): it reads
 * the whole table once and writes only records that lack the entry, each by a conditional write that never
 * overwrites an entry, so running it again, or while the pipeline runs, is harmless.
 */
export async function backfillMailboxIndex(
  db: DynamoDBDocumentClient,
  tableName: string,
  progress: (result: BackfillResult) => void = () => undefined,
): Promise<BackfillResult> {
  let found = 0;
  let updated = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression:
          '(begins_with(pk, :transfer) OR begins_with(pk, :inbound)) AND attribute_not_exists(#indexPk)',
        ProjectionExpression: 'pk, sk, transferId, #key, sender, mailboxId, messageId, createdAt',
        ExpressionAttributeNames: { '#indexPk': INDEX.partition, '#key': 'key' },
        ExpressionAttributeValues: { ':transfer': 'TRANSFER#', ':inbound': 'INBOUND#' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const entry = entryOf(item);
      if (!entry) continue;
      found++;
      if (await writeEntry(db, tableName, item, entry)) updated++;
    }
    progress({ found, updated });
    start = page.LastEvaluatedKey;
  } while (start);
  return { found, updated };
}

function entryOf(item: Record<string, unknown>): Record<string, string> | undefined {
  const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const createdAt = text('createdAt');
  if (!createdAt) return undefined;
  const transferId = text('transferId');
  const key = text('key');
  if (text('pk')?.startsWith('TRANSFER#') && transferId && key) {
    const entry = transferIndexEntry({ transferId, key, createdAt, sender: text('sender') });
    return Object.keys(entry).length ? entry : undefined;
  }
  const mailboxId = text('mailboxId');
  const messageId = text('messageId');
  if (text('pk')?.startsWith('INBOUND#') && mailboxId && messageId) {
    return inboundIndexEntry({ mailboxId, messageId, createdAt });
  }
  return undefined;
}

async function writeEntry(
  db: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  entry: Record<string, string>,
): Promise<boolean> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: item.pk, sk: item.sk },
        UpdateExpression: 'SET #indexPk = :pk, #indexSk = :sk',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#indexPk)',
        ExpressionAttributeNames: { '#indexPk': INDEX.partition, '#indexSk': INDEX.sort },
        ExpressionAttributeValues: { ':pk': entry[INDEX.partition], ':sk': entry[INDEX.sort] },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** A position in a mailbox's list: the sort value `{ISO createdAt}#{transfer or message id}`. */
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z#([A-Za-z0-9_-]{1,100})$/;

export function isMailboxListPosition(position: string): boolean {
  return POSITION.test(position);
}

/**
 * The full key of the record at a position of a mailbox's list (the table's key with the index's), from which a
 * Query of the index goes on (`ExclusiveStartKey`). Undefined for a position that is not one.
 */
export function mailboxListStartKey(
  list: MailboxList,
  mailboxId: string,
  position: string,
): Record<string, string> | undefined {
  const id = POSITION.exec(position)?.[2];
  if (!id) return undefined;
  const table =
    list === 'outbox'
      ? { pk: `TRANSFER#${id}`, sk: 'TRANSFER' }
      : { pk: `INBOUND#${mailboxId}#${id}`, sk: 'INBOUND' };
  return { ...table, [INDEX.partition]: mailboxListPartition(list, mailboxId), [INDEX.sort]: position };
}
