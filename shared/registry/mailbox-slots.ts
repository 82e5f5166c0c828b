import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SLOT_PARTITION_PREFIX } from './mailbox.js';

/** A held slot; give it back with `release`. */
export interface MailboxSlot {
  readonly mailboxId: string;
  readonly slot: number;
  readonly holder: string;
}

/**
 * Caps concurrent MESH work per mailbox across every invocation of the fleet: `cap` slot items per mailbox
 * (`pk = MAILBOX_SLOT#{id}`, `sk = {n}`), each taken by a conditional put that succeeds only when the slot is free
 * or its lease has lapsed. A crashed holder's slot frees itself when its lease runs out, so a cap can never wedge.
 */
export class MailboxSlots {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a free slot for `leaseMs`, or returns undefined when all `cap` are held. */
  async acquire(
    mailboxId: string,
    holder: string,
    cap: number,
    leaseMs: number,
  ): Promise<MailboxSlot | undefined> {
    const nowMs = this.now();
    for (let slot = 0; slot < cap; slot++) {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk: `${SLOT_PARTITION_PREFIX}${mailboxId}`,
              sk: String(slot),
              holder,
              leaseExpiresAt: nowMs + leaseMs,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseExpiresAt < :now OR holder = :holder',
            ExpressionAttributeValues: { ':now': nowMs, ':holder': holder },
          }),
        );
        return { mailboxId, slot, holder };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return undefined;
  }

  /** Gives the slot back, unless its lease lapsed and another holder has it now. */
  async release(slot: MailboxSlot): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `${SLOT_PARTITION_PREFIX}${slot.mailboxId}`, sk: String(slot.slot) },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': slot.holder },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** How many of the mailbox's `cap` slots are free now: never taken, given back, or with their lease lapsed. */
  async free(mailboxId: string, cap: number): Promise<number> {
    const nowMs = this.now();
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${SLOT_PARTITION_PREFIX}${mailboxId}` },
        ConsistentRead: true,
      }),
    );
    const held = Items.filter((item) => Number(item.sk) < cap && Number(item.leaseExpiresAt) >= nowMs).length;
    return Math.max(0, cap - held);
  }
}
