import type { InvocationBudget, LeasedJobSettings } from '../jobs/leased-job.js';
import { InboundStore } from '../state/inbound-store.js';
import type { InboundRecord } from './inbound-record.js';

export interface DownloaderSettings extends LeasedJobSettings {
  readonly bucket: string;
  /** Size of each S3 part (the last may be smaller); memory holds about 2 x chunkConcurrency of them. */
  readonly partBytes: number;
  /**
   * Chunks of one message fetched at once, and parts uploaded at once (DOWNLOAD_CHUNK_CONCURRENCY). @default 1:
   * one chunk after another, one part uploading while the next fills.
   */
  readonly chunkConcurrency?: number;
  /** A chunk that decompresses to more than this is refused (a decompression bomb). */
  readonly maxDecodedChunkBytes: number;
  /** A resumed download's SHA-256 of the stored object saves its progress every so many bytes. */
  readonly hashCheckpointBytes: number;
  /** Parts whose checkpoint fits one DynamoDB item; a message needing more cannot be stored by this deployment. */
  readonly maxParts: number;
}

/** The budget every leased job has, by the name download callers knew it by. */
export type DownloadBudget = InvocationBudget;

export type DownloadOutcome = 'stored' | 'report' | 'paused' | 'duplicate' | 'busy';

/** The one write every step of a download makes: a change to the message's record, under the invocation's lease. */
export type InboundRecordWriter = Pick<InboundStore, 'update'>;

export function recordIdOf(record: InboundRecord): string {
  return InboundStore.idOf(record.mailboxId, record.messageId);
}
