import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  mailboxSecretId,
  REGISTRY_PARTITION,
  type MailboxHealthRecord,
  type MailboxRecord,
  type MailboxSettings,
} from './mailbox.js';

/**
 * All mailboxes sit in one partition of the pipeline's table (`pk = MAILBOX`, `sk = {id}`): the registry is read
 * whole by one Query (a thousand records is a few hundred KB), written rarely, and needs no table of its own, so a
 * deployment's state stays in one encrypted, backed-up table. Poll claims are single-item conditional writes.
 */
const PARTITION = REGISTRY_PARTITION;
const key = (id: string) => ({ pk: PARTITION, sk: id });

export class MailboxNotFoundError extends Error {
  constructor(readonly mailboxId: string) {
    super(`mailbox ${mailboxId} is not in the registry`);
    this.name = 'MailboxNotFoundError';
  }
}

export class MailboxRegistry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly secretPrefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(): Promise<MailboxRecord[]> {
    const records: MailboxRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': PARTITION },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) records.push(toRecord(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }

  async get(id: string): Promise<MailboxRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  /** Adds a mailbox; false if one with this id is already registered (it is left as it is). */
  async add(settings: MailboxSettings, options: { paused?: boolean } = {}): Promise<boolean> {
    const at = this.now().toISOString();
    const record: MailboxRecord = {
      ...settings,
      secretId: mailboxSecretId(this.secretPrefix, settings.id),
      paused: options.paused ?? false,
      createdAt: at,
      updatedAt: at,
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key(settings.id), ...withoutUndefined(record) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Replaces a registered mailbox's settings (routes, interval, inbound window). */
  async updateSettings(settings: MailboxSettings): Promise<MailboxRecord> {
    const values: Record<string, unknown> = {
      ':routes': settings.routes,
      ':interval': settings.pollIntervalSeconds,
      ':at': this.now().toISOString(),
    };
    let expression = 'SET routes = :routes, pollIntervalSeconds = :interval, updatedAt = :at';
    if (settings.expectedInboundHours === undefined) expression += ' REMOVE expectedInboundHours';
    else {
      expression = expression.replace('SET ', 'SET expectedInboundHours = :hours, ');
      values[':hours'] = settings.expectedInboundHours;
    }
    return this.update(settings.id, expression, values);
  }

  async setPaused(id: string, paused: boolean, reason?: string): Promise<MailboxRecord> {
    const values: Record<string, unknown> = { ':paused': paused, ':at': this.now().toISOString() };
    let expression = 'SET paused = :paused, updatedAt = :at';
    if (paused && reason) {
      expression += ', pausedReason = :reason';
      values[':reason'] = reason;
    } else expression += ' REMOVE pausedReason';
    return this.update(id, expression, values);
  }

  /** Removes a mailbox from the registry; its secret and its transfers' records are left for the operator. */
  async remove(id: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key(id),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Claims the mailbox's next poll: succeeds for one caller only, and only if the mailbox is not paused and its
   * poll is due. The next poll becomes due `intervalMs` from now, so however many pollers run at once, a mailbox
   * is polled at most once per interval.
   */
  async claimPoll(id: string, intervalMs: number): Promise<boolean> {
    const nowMs = this.now().getTime();
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'SET nextPollAt = :next, lastPolledAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND paused = :false AND (attribute_not_exists(nextPollAt) OR nextPollAt <= :now)',
          ExpressionAttributeValues: { ':next': nowMs + intervalMs, ':now': nowMs, ':false': false },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Notes that a message reached the inbound bucket (for the mailbox's InboundOverdue check). Never moves back. */
  async recordInbound(id: string, atMs: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'SET lastInboundAt = :at',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastInboundAt) OR lastInboundAt < :at)',
          ExpressionAttributeValues: { ':at': atMs },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Records a health check's outcome on the mailbox (for the console's mailbox health). Conditional, so an older
   * check finishing late never overwrites a newer one, and a removed mailbox is not brought back.
   */
  async recordHealth(id: string, health: MailboxHealthRecord): Promise<void> {
    const sets = ['lastHealthCheckAt = :at', 'lastHealthCheckOk = :ok'];
    const removes: string[] = [];
    const values: Record<string, unknown> = { ':at': health.checkedAt, ':ok': health.ok };
    if (health.ok) sets.push('lastHandshakeAt = :at');
    if (health.failure) {
      sets.push('lastHealthFailure = :failure');
      values[':failure'] = health.failure;
    } else removes.push('lastHealthFailure');
    // An unreadable certificate's expiry is unknown now: the last one read is not shown as if it still held.
    if (health.certificateNotAfter !== undefined) {
      sets.push('certificateNotAfter = :notAfter');
      values[':notAfter'] = health.certificateNotAfter;
    } else removes.push('certificateNotAfter');
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastHealthCheckAt) OR lastHealthCheckAt < :at)',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async update(
    id: string,
    expression: string,
    values: Record<string, unknown>,
  ): Promise<MailboxRecord> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new MailboxNotFoundError(id);
      throw error;
    }
  }
}

function toRecord(item: Record<string, unknown>): MailboxRecord {
  const { pk: _pk, sk, ...rest } = item;
  return {
    ...(rest as Omit<MailboxRecord, 'id'>),
    id: String(sk),
    routes: (rest.routes as MailboxRecord['routes']) ?? [],
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
