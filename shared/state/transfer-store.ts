import {
  FINAL_STATUSES,
  SENDABLE_STATUSES,
  type ObjectRef,
  type TransferRecord,
} from '../outbound/transfer.js';
import { LeasedStore, type DerivedAttributes } from './leased-store.js';
import { transferIndexEntry } from './mailbox-index.js';
import { TABLE_INDEXES, TTL_ATTRIBUTE } from './table.js';

export { LeaseLostError } from './leased-store.js';

/** Fields a write may change; `undefined` removes one. */
export type TransferChanges = Partial<Omit<TransferRecord, 'transferId' | 'pendingEvents'>>;

const SK = 'TRANSFER';
/** Final records are kept a year for audit, then expire. */
const RETENTION_SECONDS = 366 * 24 * 3600;

/** Outbound transfers: one item per S3 object version, findable by MESH message id and by local id. */
export class TransferStore extends LeasedStore<TransferRecord> {
  protected readonly workableStatuses: readonly string[] = SENDABLE_STATUSES;
  /** A transfer never goes back to `received` once sending, nor leaves a final status. */
  protected override readonly statusRanks = {
    received: 0,
    sending: 1,
    stalled: 1,
    accepted: 2,
    rejected: 2,
    failed: 2,
  };

  protected key(transferId: string) {
    return { pk: `TRANSFER#${transferId}`, sk: SK };
  }

  /** Creates the record for an object the first time it is seen, with its `received` event pending. */
  async getOrCreate(
    transferId: string,
    object: ObjectRef,
    receivedEvent: (r: TransferRecord) => [string, string],
  ) {
    const at = this.now().toISOString();
    const base: TransferRecord = {
      ...object,
      transferId,
      status: 'received',
      chunksSent: 0,
      bytesSent: 0,
      attempts: 0,
      createdAt: at,
      updatedAt: at,
    };
    const [eventId, event] = receivedEvent(base);
    return this.create(transferId, { ...base, pendingEvents: { [eventId]: event } });
  }

  protected derived(transferId: string, changes: TransferChanges): DerivedAttributes {
    // Only a new record carries createdAt: it is listed under its mailbox from the start (the byMailbox index).
    const keys: DerivedAttributes =
      changes.createdAt && changes.key
        ? transferIndexEntry({
            transferId,
            key: changes.key,
            createdAt: changes.createdAt,
            sender: changes.sender,
          })
        : {};
    if (changes.messageId) {
      keys[TABLE_INDEXES.byMessageId.partition] = `MSG#${changes.messageId}`;
      keys[TABLE_INDEXES.byMessageId.sort] = SK;
    }
    if (changes.localId && changes.sender) {
      keys[TABLE_INDEXES.byLocalId.partition] = `LOCAL#${changes.sender}#${changes.localId}`;
      keys[TABLE_INDEXES.byLocalId.sort] = transferId;
    }
    if (changes.nextTrackingAt !== undefined && changes.sender) {
      keys[TABLE_INDEXES.byTrackingDue.partition] = `TRACKING#${changes.sender}`;
      keys[TABLE_INDEXES.byTrackingDue.sort] = `${dueKey(changes.nextTrackingAt)}#${transferId}`;
    }
    if (changes.status && FINAL_STATUSES.has(changes.status)) {
      keys[TTL_ATTRIBUTE] = Math.floor(this.now().getTime() / 1000) + RETENTION_SECONDS;
      keys[TABLE_INDEXES.byTrackingDue.partition] = undefined;
      keys[TABLE_INDEXES.byTrackingDue.sort] = undefined;
      keys.nextTrackingAt = undefined;
    }
    return keys;
  }

  async findByMessageId(messageId: string): Promise<TransferRecord | undefined> {
    const index = TABLE_INDEXES.byMessageId;
    const [record] = await this.queryIndex(index.name, [index.partition, `MSG#${messageId}`]);
    return record;
  }

  async findByLocalId(sender: string, localId: string): Promise<TransferRecord[]> {
    const index = TABLE_INDEXES.byLocalId;
    return this.queryIndex(index.name, [index.partition, `LOCAL#${sender}#${localId}`]);
  }

  /** Accepted transfers of `sender` whose next delivery check is due, the most overdue first. */
  async dueForTracking(sender: string, now: number, limit: number): Promise<TransferRecord[]> {
    const index = TABLE_INDEXES.byTrackingDue;
    return this.queryIndex(index.name, [index.partition, `TRACKING#${sender}`], {
      sortBelow: [index.sort, `${dueKey(now)}#~`],
      limit,
    });
  }
}

/** Epoch ms, zero-padded so that string order is time order. */
function dueKey(epochMs: number): string {
  return String(epochMs).padStart(15, '0');
}
