import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TTL_ATTRIBUTE } from '../state/table.js';
import type { AuditEntry, AuditTrail } from './ports.js';

/** Partition of the audit trail in the pipeline's table; `sk` is `{ISO time}#{uuid}`, so a query reads it in time order. */
export const AUDIT_PARTITION = 'CONSOLE_AUDIT';
/** Kept as long as the transfer records they speak of (a year), then DynamoDB's TTL removes them. */
const RETENTION_SECONDS = 366 * 24 * 3600;

/**
 * The audit trail in the pipeline's own table (encrypted and backed up with it): one item per console action, in
 * one partition. Console actions are people's clicks, a few a minute at most, far below a partition's write limit.
 */
export class DynamoAuditTrail implements AuditTrail {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(entry: Omit<AuditEntry, 'at'>): Promise<AuditEntry> {
    const at = this.now();
    const full: AuditEntry = { at: at.toISOString(), ...entry };
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: AUDIT_PARTITION,
          sk: `${full.at}#${randomUUID()}`,
          ...full,
          [TTL_ATTRIBUTE]: Math.floor(at.getTime() / 1000) + RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return full;
  }

  async recent(options: { limit: number; before?: string }) {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': AUDIT_PARTITION },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: options.before ? { pk: AUDIT_PARTITION, sk: options.before } : undefined,
      }),
    );
    const entries = (page.Items ?? []).map((item): AuditEntry => ({
      at: item.at as string,
      subject: item.subject as string,
      user: item.user as string,
      action: item.action as AuditEntry['action'],
      mailboxId: item.mailboxId as string,
      target: item.target as string,
      detail: item.detail as string | undefined,
    }));
    const next = page.LastEvaluatedKey?.sk as string | undefined;
    return { entries, next };
  }
}
