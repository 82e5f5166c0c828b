import type { HashProgress } from '../aws/resumable-sha256.js';
import type { TransportEncoding } from '../mesh/compression.js';
import type { OutboundAddress } from './addressing.js';

/** Lifecycle of one outbound object. `rejected`, `failed`, `delivered` and `undeliverable` are final. */
export type TransferStatus =
  | 'received'
  | 'sending'
  /** Retries exhausted and the message dead-lettered; a redrive from the DLQ resumes it. */
  | 'stalled'
  | 'accepted'
  | 'rejected'
  | 'failed'
  | 'delivered'
  | 'undeliverable';

export const FINAL_STATUSES: ReadonlySet<TransferStatus> = new Set([
  'rejected',
  'failed',
  'delivered',
  'undeliverable',
]);
/** Statuses in which the send function still has work to do. */
export const SENDABLE_STATUSES: readonly TransferStatus[] = ['received', 'sending', 'stalled'];

export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly eTag?: string;
  readonly size: number;
}

/** One outbound transfer: an S3 object on its way to a MESH mailbox. */
export interface TransferRecord extends ObjectRef {
  readonly transferId: string;
  readonly status: TransferStatus;
  readonly sender?: string;
  readonly recipient?: string;
  readonly workflowId?: string;
  readonly localId?: string;
  readonly subject?: string;
  readonly fileName?: string;
  /** Every MESH header the message is sent with, fixed before the first byte goes. */
  readonly address?: OutboundAddress;
  readonly messageId?: string;
  readonly chunkBytes?: number;
  readonly totalChunks?: number;
  readonly chunksSent: number;
  readonly bytesSent: number;
  /**
   * Whether the chunks go gzipped or plain: chosen from samples of the object before the first POST, written with
   * postStartedAt, and kept for every chunk after (MESH refuses a chunk whose encoding differs from chunk 1's).
   * Absent from records written before it existed, whose chunks went as configured (COMPRESS).
   */
  readonly transportEncoding?: TransportEncoding;
  /** SHA-256 (hex) of the original bytes: read while sending, or afterwards when the send was resumed. */
  readonly sha256?: string;
  /** How far that SHA-256 read afterwards has got, when it takes more than one invocation. */
  readonly hashProgress?: HashProgress;
  /** Set just before the first POST: if the message id is missing later, the POST's outcome is unknown. */
  readonly postStartedAt?: string;
  /** Looks for the message of an unknown first POST so far (tracking by local id and the outbox listing). */
  readonly recoveryChecks?: number;
  /** When the first of those looks was made: the recheck window is measured from it, by the clock. */
  readonly recoveryStartedAt?: string;
  /** Epoch ms before which a look is not due: an extra delivery inside the window does nothing. */
  readonly nextRecheckAt?: number;
  /** First POSTs sent again after an unknown outcome; bounded, so an outcome that stays unknown cannot loop. */
  readonly unknownResends?: number;
  readonly attempts: number;
  readonly errorCode?: string;
  readonly errorText?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly acceptedAt?: string;
  readonly finishedAt?: string;
  readonly leaseOwner?: string;
  /** Epoch milliseconds. */
  readonly leaseExpiresAt?: number;
  /** Delivery checks made so far, and when the next is due (epoch ms). */
  readonly trackingChecks?: number;
  readonly nextTrackingAt?: number;
  /** Status events written with a status change and not yet confirmed published, keyed by event id. */
  readonly pendingEvents?: Readonly<Record<string, string>>;
}
