import type { LeasedRecord } from '../state/leased-store.js';
import type { HashProgress } from '../aws/resumable-sha256.js';

/**
 * Lifecycle of one message collected from a MESH inbox. `acknowledged` is final: stored, announced, and MESH told.
 * `poisoned` means downloads keep failing; it is never acknowledged, and a redrive from the DLQ tries again.
 */
export type InboundStatus = 'queued' | 'downloading' | 'stored' | 'acknowledged' | 'poisoned';

export interface UploadedPart {
  readonly partNumber: number;
  readonly eTag: string;
}

export interface InboundReport {
  readonly code?: string;
  readonly event?: string;
  readonly description?: string;
  readonly linkedMessageId?: string;
  readonly linkedTransferId?: string;
}

export interface InboundRecord extends LeasedRecord {
  readonly mailboxId: string;
  readonly messageId: string;
  readonly status: InboundStatus;
  readonly messageType?: 'DATA' | 'REPORT';
  readonly sender?: string;
  readonly workflowId?: string;
  readonly subject?: string;
  readonly localId?: string;
  /** The file name MESH gave, and the safe one it is stored under. */
  readonly originalFileName?: string;
  readonly fileName?: string;
  readonly contentType?: string;
  readonly contentChecksum?: string;
  readonly totalChunks?: number;
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
  readonly size?: number;
  readonly sha256?: string;
  /** True or false when mex-Content-Checksum carried a SHA-256; absent when it did not. */
  readonly checksumVerified?: boolean;
  readonly report?: InboundReport;
  /** Multipart upload in progress: where the next part starts (chunk and decoded offset within it). */
  readonly uploadId?: string;
  readonly parts?: readonly UploadedPart[];
  readonly partBytes?: number;
  readonly nextChunk?: number;
  readonly skipBytes?: number;
  /** The download was split across invocations, so its SHA-256 is computed from the stored object. */
  readonly resumed?: boolean;
  /** How far that SHA-256 of the stored object has got, when it too takes more than one invocation. */
  readonly hashProgress?: HashProgress;
  readonly lastQueuedAt?: number;
  readonly errorCode?: string;
  readonly errorText?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly storedAt?: string;
  readonly acknowledgedAt?: string;
}
