import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { FINAL_STATUSES, type ObjectRef, type TransferRecord } from '../outbound/transfer.js';
import { TABLE_INDEXES, TTL_ATTRIBUTE } from './table.js';

/** Another invocation took the lease: this one must stop touching the transfer. */
export class LeaseLostError extends Error {
  constructor(readonly transferId: string) {
    super(`lease on transfer ${transferId} was lost to another invocation`);
    this.name = 'LeaseLostError';
  }
}

export type LeaseResult =
  | { readonly kind: 'acquired'; readonly record: TransferRecord }
  | { readonly kind: 'final'; readonly record: TransferRecord }
  | { readonly kind: 'held'; readonly record: TransferRecord }
  | { readonly kind: 'missing' };

const pkOf = (transferId: string) => `TRANSFER#${transferId}`;
const SK = 'TRANSFER';
/** Final records are kept a year for audit, then expire. */
const RETENTION_SECONDS = 366 * 24 * 3600;

/** Single-item conditional writes only: every change is fenced by the lease owner, so a stale invocation cannot clobber state. */
export class TransferStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(transferId: string): Promise<TransferRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(transferId), sk: SK },
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  /** Creates the record for an object the first time it is seen; later duplicates get the existing record. */
  async getOrCreate(
    transferId: string,
    object: ObjectRef,
    receivedEvent: (r: TransferRecord) => [string, string],
  ) {
    const at = this.now().toISOString();
    const record: TransferRecord = {
      ...object,
      transferId,
      status: 'received',
      chunksSent: 0,
      bytesSent: 0,
      attempts: 0,
      createdAt: at,
      updatedAt: at,
    };
    const [eventId, event] = receivedEvent(record);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: pkOf(transferId), sk: SK, ...record, pendingEvents: { [eventId]: event } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, record: { ...record, pendingEvents: { [eventId]: event } } };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(transferId);
      if (!existing) throw error;
      return { created: false, record: existing };
    }
  }

  /**
   * Takes the transfer for `leaseMs`, if it still has work to do and nobody else holds it. This is what stops
   * duplicate S3 events, SQS redeliveries and concurrent invocations from sending the same object twice.
   */
  async acquireLease(transferId: string, owner: string, leaseMs: number): Promise<LeaseResult> {
    const nowMs = this.now().getTime();
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(transferId), sk: SK },
          UpdateExpression:
            'SET leaseOwner = :owner, leaseExpiresAt = :until, updatedAt = :at ADD attempts :one',
          ConditionExpression:
            'attribute_exists(pk) AND #status IN (:received, :sending) AND ' +
            '(attribute_not_exists(leaseExpiresAt) OR leaseExpiresAt < :now OR leaseOwner = :owner)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':until': nowMs + leaseMs,
            ':now': nowMs,
            ':at': new Date(nowMs).toISOString(),
            ':one': 1,
            ':received': 'received',
            ':sending': 'sending',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'acquired', record: fromItem(Attributes!) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const record = await this.get(transferId);
      if (!record) return { kind: 'missing' };
      if (record.status !== 'received' && record.status !== 'sending') return { kind: 'final', record };
      return { kind: 'held', record };
    }
  }

  /**
   * Applies changes while this owner holds the lease. A status change carries its event in `pendingEvents` in the
   * same write, so the event cannot be lost between the two.
   */
  async update(
    transferId: string,
    owner: string,
    changes: Partial<Omit<TransferRecord, 'transferId' | 'pendingEvents'>>,
    event?: [string, string],
  ): Promise<TransferRecord> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':owner': owner };
    const sets: string[] = [];
    const removes: string[] = [];
    const all: Record<string, unknown> = { ...changes, updatedAt: this.now().toISOString() };
    for (const [name, value] of Object.entries(all)) {
      names[`#${name}`] = name;
      if (value === undefined) removes.push(`#${name}`);
      else {
        values[`:${name}`] = value;
        sets.push(`#${name} = :${name}`);
      }
    }
    if (event) {
      names['#pending'] = 'pendingEvents';
      names['#eventId'] = event[0];
      values[':event'] = event[1];
      sets.push('#pending.#eventId = :event');
    }
    this.addIndexes(changes, sets, names, values, transferId);
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(transferId), sk: SK },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new LeaseLostError(transferId);
      throw error;
    }
  }

  /** Keeps the GSI keys in step with the fields they index. */
  private addIndexes(
    changes: Partial<TransferRecord>,
    sets: string[],
    names: Record<string, string>,
    values: Record<string, unknown>,
    transferId: string,
  ): void {
    const set = (name: string, value: unknown) => {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    };
    if (changes.messageId) {
      set(TABLE_INDEXES.byMessageId.partition, `MSG#${changes.messageId}`);
      set(TABLE_INDEXES.byMessageId.sort, SK);
    }
    if (changes.localId && changes.sender) {
      set(TABLE_INDEXES.byLocalId.partition, `LOCAL#${changes.sender}#${changes.localId}`);
      set(TABLE_INDEXES.byLocalId.sort, transferId);
    }
    if (changes.nextTrackingAt !== undefined) {
      set(TABLE_INDEXES.byTrackingDue.partition, 'TRACKING');
      set(
        TABLE_INDEXES.byTrackingDue.sort,
        `${String(changes.nextTrackingAt).padStart(15, '0')}#${transferId}`,
      );
    }
    if (changes.status && FINAL_STATUSES.has(changes.status)) {
      set(TTL_ATTRIBUTE, Math.floor(this.now().getTime() / 1000) + RETENTION_SECONDS);
    }
  }

  /** Gives the lease up so a continuation message can take it straight away. */
  async releaseLease(transferId: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(transferId), sk: SK },
          UpdateExpression: 'REMOVE leaseOwner, leaseExpiresAt',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Confirms a pending status event was published. */
  async clearPendingEvent(transferId: string, eventId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(transferId), sk: SK },
        UpdateExpression: 'REMOVE pendingEvents.#eventId',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#eventId': eventId },
      }),
    );
  }

  async findByMessageId(messageId: string): Promise<TransferRecord | undefined> {
    const index = TABLE_INDEXES.byMessageId;
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk = :sk',
        ExpressionAttributeNames: { '#pk': index.partition, '#sk': index.sort },
        ExpressionAttributeValues: { ':pk': `MSG#${messageId}`, ':sk': SK },
      }),
    );
    return Items?.[0] ? fromItem(Items[0]) : undefined;
  }

  async findByLocalId(sender: string, localId: string): Promise<TransferRecord[]> {
    const index = TABLE_INDEXES.byLocalId;
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partition },
        ExpressionAttributeValues: { ':pk': `LOCAL#${sender}#${localId}` },
      }),
    );
    return (Items ?? []).map(fromItem);
  }
}

function fromItem(item: Record<string, unknown>): TransferRecord {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _a,
    gsi1sk: _b,
    gsi2pk: _c,
    gsi2sk: _d,
    gsi3pk: _e,
    gsi3sk: _f,
    ...rest
  } = item;
  return rest as unknown as TransferRecord;
}
