import type { InboundRecord } from '../inbound/inbound-record.js';
import type { TransferRecord } from '../outbound/transfer.js';
import type { PageRequest } from './list-reader.js';
import type { Page } from './paging.js';

/**
 * What the console reads of the pipeline's records beyond the operator lookups (shared/operations): a mailbox's
 * transfers and messages a page at a time, the reports about a transfer, and the work that needs a hand.
 */
export interface ConsoleRecords {
  /** A page of the transfers sent from `mailboxId`, newest first. A cursor not of this list is refused (400). */
  transfersOf(mailboxId: string, request: PageRequest<TransferRecord>): Promise<Page<TransferRecord>>;
  /** A page of the messages received by `mailboxId` (data and reports), newest first. */
  messagesOf(mailboxId: string, request: PageRequest<InboundRecord>): Promise<Page<InboundRecord>>;
  /** The reports `mailboxId` received about one of its transfers (by transfer id or MESH message id). */
  reportsAbout(
    mailboxId: string,
    transfer: Pick<TransferRecord, 'transferId' | 'messageId' | 'createdAt'>,
  ): Promise<InboundRecord[]>;
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

/** A mailbox MESH lists for an ODS code and workflow. */
export interface EndpointMatch {
  readonly mailboxId: string;
  readonly mailboxName?: string;
}

/**
 * MESH's endpoint lookup (which mailboxes an organisation receives a workflow in), asked as one of the pipeline's
 * mailboxes: MESH answers only a client with a mailbox's certificate. Throws MeshUnavailableError when MESH cannot
 * be asked or does not answer.
 */
export interface EndpointLookup {
  find(asMailbox: string, odsCode: string, workflowId: string): Promise<readonly EndpointMatch[]>;
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
