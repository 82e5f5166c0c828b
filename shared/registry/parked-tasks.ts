import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PARKED_INDEX_PARTITION, PARKED_PARTITION_PREFIX } from './mailbox.js';

/** The shared work queues whose tasks pass a mailbox's gate. */
export type GatedQueue = 'send' | 'download';

/** A task set aside because its mailbox had its cap of tasks running, to be put back on its queue when one ends. */
export interface TaskToPark {
  readonly mailboxId: string;
  readonly queue: GatedQueue;
  /** The queue message's body, unchanged. */
  readonly body: string;
  /** How many times this task has been set aside (kept on the message when it is put back). */
  readonly deferrals: number;
  /** Receives the task has spent on earlier messages (counted into the receive count of the one it comes back as). */
  readonly receives?: number;
  /** Work under way (a continuation) goes before tasks not yet started. */
  readonly first?: boolean;
}

export interface ParkedTask extends TaskToPark {
  /** The item's sort key: continuations first, then oldest first. */
  readonly place: string;
  readonly parkedAt: number;
}

/** A mailbox with tasks set aside, and the token of its last parking (see `forgetMailbox`). */
export interface ParkedMailbox {
  readonly mailboxId: string;
  readonly token: string;
}

/**
 * Tasks set aside per mailbox, in the pipeline's table: `pk = MAILBOX_PARKED#{id}`, `sk = {0|1}#{time}#{token}` (so
 * a query reads continuations first, then oldest first), plus one index item per mailbox that has any
 * (`pk = MAILBOX_PARKED`, `sk = {id}`), so the sweep reads only those mailboxes, however many are registered.
 *
 * Why not put a busy mailbox's tasks back on the queue, delayed: with thousands of files dropped for one mailbox,
 * every one of them came back every few minutes, took an invocation of the fleet shared by every mailbox, found the
 * cap reached and went back again, for as long as the backlog lasted. A parked task costs nothing while it waits.
 */
export class ParkedTasks {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    private readonly token: () => string = randomUUID,
  ) {}

  /** Sets a task aside. The task is written before the index, so the sweep can never forget a mailbox that has one. */
  async park(task: TaskToPark): Promise<ParkedTask> {
    const parkedAt = this.now();
    const place = `${task.first ? 0 : 1}#${String(parkedAt).padStart(15, '0')}#${this.token()}`;
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `${PARKED_PARTITION_PREFIX}${task.mailboxId}`,
          sk: place,
          queue: task.queue,
          body: task.body,
          deferrals: task.deferrals,
          receives: task.receives ?? 0,
          first: task.first === true,
          parkedAt,
        },
      }),
    );
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: PARKED_INDEX_PARTITION, sk: task.mailboxId, token: this.token(), parkedAt },
      }),
    );
    return { ...task, place, parkedAt };
  }

  /** The first `limit` tasks set aside for a mailbox, in the order they should run. */
  async next(mailboxId: string, limit: number): Promise<ParkedTask[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${PARKED_PARTITION_PREFIX}${mailboxId}` },
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => ({
      mailboxId,
      place: String(item.sk),
      queue: item.queue === 'download' ? 'download' : 'send',
      body: String(item.body),
      deferrals: Number(item.deferrals) || 0,
      receives: Number(item.receives) || 0,
      first: item.first === true,
      parkedAt: Number(item.parkedAt) || 0,
    }));
  }

  /** Removes a task set aside (woken, or admitted after all). Removing one already gone is not an error. */
  async remove(mailboxId: string, place: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: `${PARKED_PARTITION_PREFIX}${mailboxId}`, sk: place },
      }),
    );
  }

  /** Every mailbox that may have tasks set aside. */
  async mailboxes(): Promise<ParkedMailbox[]> {
    const found: ParkedMailbox[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': PARKED_INDEX_PARTITION },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? [])
        found.push({ mailboxId: String(item.sk), token: String(item.token) });
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /**
   * Drops a mailbox from the index once the sweep found none of its tasks, unless a task was parked since the sweep
   * read the index (its parking wrote a new token): that task would otherwise never be swept.
   */
  async forgetMailbox(mailbox: ParkedMailbox): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: PARKED_INDEX_PARTITION, sk: mailbox.mailboxId },
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': mailbox.token },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
