import type { InboundRecord } from '../inbound/inbound-record.js';
import type { TransferRecord } from '../outbound/transfer.js';

/**
 * What the console reads of the pipeline's records beyond the operator lookups (shared/operations): every transfer
 * a mailbox sent, every message it received, and the work that needs a hand.
 */
export interface ConsoleRecords {
  /** Transfers sent from `mailboxId`, newest first. */
  transfersOf(mailboxId: string): Promise<TransferRecord[]>;
  /** Messages received by `mailboxId` (data and reports), newest first. */
  messagesOf(mailboxId: string): Promise<InboundRecord[]>;
  /**
   * Every stalled transfer and poisoned message of the deployment, and each mailbox's inbox backlog: messages
   * received and not yet acknowledged to MESH (only mailboxes with any).
   */
  needingAttention(): Promise<{
    transfers: TransferRecord[];
    messages: InboundRecord[];
    backlog: Record<string, number>;
  }>;
}

/** A presigned upload: the browser PUTs the file to `url` with exactly `headers`, before `expiresAt`. */
export interface SignedUpload {
  readonly url: string;
  readonly method: 'PUT';
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAt: string;
}

export interface SignedDownload {
  readonly url: string;
  readonly expiresAt: string;
}

/** Signs S3 requests for the browser: the console function never carries a file's bytes itself. */
export interface UrlSigner {
  upload(input: {
    key: string;
    size: number;
    contentType: string;
    metadata: Readonly<Record<string, string>>;
  }): Promise<SignedUpload>;
  download(input: {
    bucket: string;
    key: string;
    versionId?: string;
    fileName: string;
  }): Promise<SignedDownload>;
}

export type AuditAction =
  'send' | 'download' | 'redrive-transfer' | 'redrive-message' | 'pause-mailbox' | 'resume-mailbox';

export interface AuditEntry {
  readonly at: string;
  /** The user's `sub` and the name shown for them. */
  readonly subject: string;
  readonly user: string;
  readonly action: AuditAction;
  readonly mailboxId: string;
  /** What was acted on: an S3 key, a transfer id, a message id. */
  readonly target: string;
  readonly detail?: string;
}

/** Who sent, downloaded, redrove, paused what, and when: kept in the pipeline's table. */
export interface AuditTrail {
  record(entry: Omit<AuditEntry, 'at'>): Promise<AuditEntry>;
  /** Newest first. */
  recent(options: { limit: number; before?: string }): Promise<{ entries: AuditEntry[]; next?: string }>;
}
