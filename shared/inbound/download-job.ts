import { InboundStore } from '../state/inbound-store.js';
import type { InboundRecord } from './inbound-record.js';

export interface DownloaderSettings {
  readonly bucket: string;
  /** Size of each S3 part (the last may be smaller); memory holds two. */
  readonly partBytes: number;
  /** A chunk that decompresses to more than this is refused (a decompression bomb). */
  readonly maxDecodedChunkBytes: number;
  readonly safetyMarginMs: number;
  /** A resumed download's SHA-256 of the stored object saves its progress every so many bytes. */
  readonly hashCheckpointBytes: number;
  readonly leaseGraceMs: number;
  /** The download queue's maxReceiveCount: on the last attempt a failing message is marked poisoned. */
  readonly maxAttempts: number;
  /** Parts whose checkpoint fits one DynamoDB item; a message needing more cannot be stored by this deployment. */
  readonly maxParts: number;
}

export interface DownloadBudget {
  readonly invocationId: string;
  /** How many times the queue has delivered this task, this time included. */
  readonly receiveCount: number;
  remainingMs(): number;
}

export type DownloadOutcome = 'stored' | 'report' | 'paused' | 'duplicate' | 'busy';

/** The one write every step of a download makes: a change to the message's record, under the invocation's lease. */
export type InboundRecordWriter = Pick<InboundStore, 'update'>;

export function recordIdOf(record: InboundRecord): string {
  return InboundStore.idOf(record.mailboxId, record.messageId);
}
