import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_DEFINITION } from './table.js';

/** Another invocation took the lease: this one must stop touching the record. */
export class LeaseLostError extends Error {
  constructor(readonly id: string) {
    super(`lease on ${id} was lost to another invocation`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Another invocation holds the record's lease right now. The message that asked for the work is left on its queue
 * (not deleted), so it comes back after the visibility timeout: if the holder dies, nothing is stranded.
 */
export class RecordBusyError extends Error {
  constructor(readonly id: string) {
    super(`${id} is being worked on by another invocation; this request will be retried`);
    this.name = 'RecordBusyError';
  }
}

export interface LeasedRecord {
  readonly status: string;
  readonly leaseOwner?: string;
  /** Epoch milliseconds. */
  readonly leaseExpiresAt?: number;
  readonly attempts: number;
  /** Events written with a status change and not yet confirmed published, keyed by event id. */
  readonly pendingEvents?: Readonly<Record<string, string>>;
}

export type LeaseResult<R> =
  | { readonly kind: 'acquired'; readonly record: R }
  | { readonly kind: 'final'; readonly record: R }
  | { readonly kind: 'held'; readonly record: R }
  | { readonly kind: 'missing' };

/** Extra attributes (GSI keys, TTL) a subclass derives from a change; `undefined` removes one. */
export type DerivedAttributes = Record<string, unknown>;

/** The table's and its indexes' key attributes: the store's bookkeeping, never part of a record. */
const INTERNAL_KEYS = [
  TABLE_DEFINITION.partitionKey,
  TABLE_DEFINITION.sortKey,
  ...TABLE_DEFINITION.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
];

/**
 * One DynamoDB item per unit of work, changed only by single-item conditional writes: a lease decides who may
 * work on it, and every write while working is fenced by the lease owner, so a stale or duplicate invocation can
 * never overwrite newer state. (dynalite has no transactions; single-item conditions are all this needs.)
 */
export abstract class LeasedStore<R extends LeasedRecord> {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
    protected readonly now: () => Date = () => new Date(),
  ) {}

  protected abstract key(id: string): { pk: string; sk: string };
  /** GSI keys and TTL to write alongside a change. */
  protected abstract derived(id: string, changes: Partial<R>): DerivedAttributes;
  /** Statuses in which there is still work for a lease holder. */
  protected abstract readonly workableStatuses: readonly string[];
  /**
   * How far along each status is. A lease holder's status change is written only from a status no further along
   * than the new one, so a record never moves backwards (stored is never poisoned again), whatever a stale or
   * failing invocation tries. Statuses without a rank may follow any status.
   */
  protected readonly statusRanks: Readonly<Record<string, number>> = {};

  async get(id: string): Promise<R | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(id), ConsistentRead: true }),
    );
    return Item ? fromItem<R>(Item) : undefined;
  }

  /** Creates the record the first time; later callers get the existing one. */
  protected async create(id: string, record: R): Promise<{ created: boolean; record: R }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          // An empty map from the start, so a status change can add its pending event at `pendingEvents.<id>`.
          Item: { ...this.key(id), pendingEvents: {}, ...record, ...defined(this.derived(id, record)) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, record: { pendingEvents: {}, ...record } };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(id);
      if (!existing) throw error;
      return { created: false, record: existing };
    }
  }

  /** Takes the record for `leaseMs` if it still has work to do and nobody else holds it. */
  async acquireLease(id: string, owner: string, leaseMs: number): Promise<LeaseResult<R>> {
    const nowMs = this.now().getTime();
    const statuses = Object.fromEntries(this.workableStatuses.map((s, i) => [`:s${i}`, s]));
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(id),
          UpdateExpression:
            'SET leaseOwner = :owner, leaseExpiresAt = :until, updatedAt = :at ADD attempts :one',
          ConditionExpression:
            `attribute_exists(pk) AND #status IN (${Object.keys(statuses).join(', ')}) AND ` +
            '(attribute_not_exists(leaseExpiresAt) OR leaseExpiresAt < :now OR leaseOwner = :owner)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ...statuses,
            ':owner': owner,
            ':until': nowMs + leaseMs,
            ':now': nowMs,
            ':at': new Date(nowMs).toISOString(),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'acquired', record: fromItem<R>(Attributes!) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const record = await this.get(id);
      if (!record) return { kind: 'missing' };
      return this.workableStatuses.includes(record.status)
        ? { kind: 'held', record }
        : { kind: 'final', record };
    }
  }

  /**
   * Applies changes while `owner` holds the lease and the record still has work to do. A status change carries its
   * event in `pendingEvents` in the same write, so the event cannot be lost between the two, and is refused (as a
   * lost lease) if it would move the record backwards.
   */
  async update(id: string, owner: string, changes: Partial<R>, event?: [string, string]): Promise<R> {
    // Fenced by status too: a record moved to a final state from outside the lease (a delivery report) is not
    // overwritten by the lease holder, which learns it has lost the record.
    const target = changes.status === undefined ? undefined : this.statusRanks[changes.status];
    const from = this.workableStatuses.filter(
      (s) => target === undefined || (this.statusRanks[s] ?? 0) <= target,
    );
    const statuses = Object.fromEntries(from.map((s, i) => [`:w${i}`, s]));
    try {
      return await this.write(
        id,
        changes,
        event,
        `leaseOwner = :owner AND #status IN (${Object.keys(statuses).join(', ')})`,
        { ':owner': owner, ...statuses },
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new LeaseLostError(id);
      throw error;
    }
  }

  /**
   * Changes a record's status from outside the lease (a delivery report, a tracking result), only while it is in
   * one of `from`. Undefined when it was not: someone else moved it on first.
   */
  async transition(
    id: string,
    from: readonly string[],
    changes: Partial<R>,
    event?: [string, string],
  ): Promise<R | undefined> {
    const values = Object.fromEntries(from.map((s, i) => [`:from${i}`, s]));
    try {
      return await this.write(
        id,
        changes,
        event,
        `attribute_exists(pk) AND #status IN (${Object.keys(values).join(', ')})`,
        values,
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Gives the lease up so the next message for this record can take it straight away. */
  async releaseLease(id: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(id),
          UpdateExpression: 'REMOVE leaseOwner, leaseExpiresAt',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Confirms a pending event was published. */
  async clearPendingEvent(id: string, eventId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(id),
        UpdateExpression: 'REMOVE pendingEvents.#eventId',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#eventId': eventId },
      }),
    );
  }

  protected async queryIndex(
    indexName: string,
    partition: [string, string],
    options: { sortBelow?: [string, string]; limit?: number } = {},
  ): Promise<R[]> {
    const names: Record<string, string> = { '#pk': partition[0] };
    const values: Record<string, unknown> = { ':pk': partition[1] };
    let condition = '#pk = :pk';
    if (options.sortBelow) {
      names['#sk'] = options.sortBelow[0];
      values[':sk'] = options.sortBelow[1];
      condition += ' AND #sk <= :sk';
    }
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: options.limit,
      }),
    );
    return (Items ?? []).map((item) => fromItem<R>(item));
  }

  private async write(
    id: string,
    changes: Partial<R>,
    event: [string, string] | undefined,
    condition: string,
    conditionValues: Record<string, unknown>,
  ): Promise<R> {
    const names: Record<string, string> = condition.includes('#status') ? { '#status': 'status' } : {};
    const values: Record<string, unknown> = { ...conditionValues };
    const sets: string[] = [];
    const removes: string[] = [];
    const all: Record<string, unknown> = {
      ...changes,
      ...this.derived(id, changes),
      updatedAt: this.now().toISOString(),
    };
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
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(id),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return fromItem<R>(Attributes!);
  }
}

/** A record as the stores return it: the item without its keys and index attributes. */
export function fromItem<R>(item: Record<string, unknown>): R {
  return Object.fromEntries(Object.entries(item).filter(([key]) => !INTERNAL_KEYS.includes(key))) as R;
}

function defined(values: DerivedAttributes): DerivedAttributes {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
