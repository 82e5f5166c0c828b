import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InboundRecord } from '../inbound/inbound-record.js';
import { fromItem, LeasedStore, type DerivedAttributes } from './leased-store.js';
import { inboundIndexEntry } from './mailbox-index.js';
import { TTL_ATTRIBUTE } from './table.js';

const SK = 'INBOUND';
/** DynamoDB's most keys in one BatchGetItem. */
const BATCH_GET_KEYS = 100;
/** Rounds of a batch's unprocessed keys before giving up on them (they are then read one at a time by the caller). */
const BATCH_GET_ROUNDS = 5;
/** Acknowledged messages are remembered for 30 days: longer than MESH keeps anything, so a late repeat is known. */
const RETENTION_SECONDS = 30 * 24 * 3600;

/** Inbound messages: one item per mailbox and MESH message id. */
export class InboundStore extends LeasedStore<InboundRecord> {
  protected readonly workableStatuses = ['queued', 'downloading', 'stored', 'poisoned'];
  /** Once stored and announced, only the acknowledgement remains: a stored message is never poisoned or re-downloaded. */
  protected override readonly statusRanks = {
    queued: 0,
    downloading: 0,
    poisoned: 0,
    stored: 1,
    acknowledged: 2,
  };

  static idOf(mailboxId: string, messageId: string): string {
    return `${mailboxId}#${messageId}`;
  }

  protected key(id: string) {
    return { pk: `INBOUND#${id}`, sk: SK };
  }

  protected derived(_id: string, changes: Partial<InboundRecord>): DerivedAttributes {
    // Only a new record carries createdAt: it is listed under its mailbox from the start (the byMailbox index).
    const listed =
      changes.createdAt && changes.mailboxId && changes.messageId
        ? inboundIndexEntry({
            mailboxId: changes.mailboxId,
            messageId: changes.messageId,
            createdAt: changes.createdAt,
          })
        : {};
    return changes.status === 'acknowledged'
      ? { ...listed, [TTL_ATTRIBUTE]: Math.floor(this.now().getTime() / 1000) + RETENTION_SECONDS }
      : listed;
  }

  async getOrCreate(
    mailboxId: string,
    messageId: string,
  ): Promise<{ created: boolean; record: InboundRecord }> {
    const at = this.now();
    return this.create(InboundStore.idOf(mailboxId, messageId), {
      mailboxId,
      messageId,
      status: 'queued',
      attempts: 0,
      lastQueuedAt: at.getTime(),
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    });
  }

  /**
   * The records of these messages that exist, by message id: one BatchGetItem per hundred (consistent reads). A
   * poll of an inbox with thousands of messages waiting reads them so, rather than trying to create each one and
   * reading it back when it exists, which is three calls per message per poll for as long as the backlog lasts.
   * Keys DynamoDB leaves unprocessed after a few rounds are simply not in the map: the caller goes the slow way.
   */
  async getMany(mailboxId: string, messageIds: readonly string[]): Promise<Map<string, InboundRecord>> {
    const found = new Map<string, InboundRecord>();
    for (let start = 0; start < messageIds.length; start += BATCH_GET_KEYS) {
      let keys: Record<string, unknown>[] | undefined = messageIds
        .slice(start, start + BATCH_GET_KEYS)
        .map((messageId) => this.key(InboundStore.idOf(mailboxId, messageId)));
      for (let round = 0; keys && keys.length > 0 && round < BATCH_GET_ROUNDS; round++) {
        const {
          Responses,
          UnprocessedKeys,
        }: {
          Responses?: Record<string, Record<string, unknown>[]>;
          UnprocessedKeys?: Record<string, { Keys?: Record<string, unknown>[] }>;
        } = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of Responses?.[this.tableName] ?? []) {
          const record = fromItem<InboundRecord>(item);
          found.set(record.messageId, record);
        }
        keys = UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }

  /**
   * Claims the right to queue a download task again for a message whose earlier task may have been lost. Only one
   * poller wins a claim (the write is conditional on the previous value).
   */
  async claimRequeue(record: InboundRecord): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(InboundStore.idOf(record.mailboxId, record.messageId)),
          UpdateExpression: 'SET lastQueuedAt = :now',
          ConditionExpression: 'lastQueuedAt = :previous',
          ExpressionAttributeValues: { ':now': this.now().getTime(), ':previous': record.lastQueuedAt ?? 0 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
