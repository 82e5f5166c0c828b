/** The server's record of one message; JSON-serialisable so the directory store can persist it as-is. */

export type MessageStatus = 'uploading' | 'accepted' | 'acknowledged' | 'undeliverable' | 'error';
export type MessageType = 'DATA' | 'REPORT';

export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  'uploading',
  'accepted',
  'acknowledged',
  'undeliverable',
  'error',
];

/** What `mex-Status*` headers and the tracking `status_*` fields report. */
export interface MessageOutcome {
  event: string;
  code: string;
  description: string;
  success: boolean;
  /** ISO time. */
  at: string;
}

export interface StoredChunk {
  /** Bytes as stored, i.e. as sent. */
  size: number;
  sha256: string;
  /** ISO time. */
  storedAt: string;
}

/**
 * How an admin-injected hostile message departs from what MESH would serve (see `admin.injectMessage`). Only the
 * admin API sets this; nothing a mailbox sends can.
 */
export interface InjectedShape {
  /** Header overrides on HEAD and every download, lowercase names; `null` removes the server's own header. */
  headers: Record<string, string | null>;
  /** Extra overrides on the download (GET, never HEAD) of chunk k+1, at index k. */
  chunkHeaders: Record<string, string | null>[];
  /** Sent as `Content-Encoding` with every chunk; the stored bytes are never checked or decoded. */
  contentEncoding?: string;
  /** The N claimed by every `mex-Chunk-Range: n:N`, whatever the number of chunks stored. */
  claimedTotalChunks?: number;
}

export interface MessageRecord {
  messageId: string;
  messageType: MessageType;
  /** The mailbox that uploaded it; absent for reports, which come from MESH itself. */
  sender?: string;
  /** The mailbox whose inbox holds it. */
  recipient: string;
  /** `mex-From` / `mex-To` as the recipient sees them; a report carries the failed message's. */
  fromHeader: string;
  toHeader: string;
  workflowId: string;
  subject?: string;
  localId?: string;
  partnerId?: string;
  fileName: string;
  contentType: string;
  contentCompressed: boolean;
  contentEncrypted: boolean;
  contentChecksum?: string;
  /** Transport encoding of every chunk as sent. */
  contentEncoding?: 'gzip';
  totalChunks: number;
  /** Index k holds chunk k+1; null until it is uploaded. */
  chunks: (StoredChunk | null)[];
  linkedMessageId?: string;
  status: MessageStatus;
  /** ISO times. */
  statusAt: string;
  createdAt: string;
  acceptedAt?: string;
  acknowledgedAt?: string;
  expiresAt?: string;
  outcome?: MessageOutcome;
  /** Position in the recipient's inbox; assigned when the message is accepted. */
  inboxSeq?: number;
  /** Set only on a hostile message put in place through the admin API. */
  injected?: InjectedShape;
}

export const TRANSFERRED: Omit<MessageOutcome, 'at'> = {
  event: 'TRANSFER',
  code: '00',
  description: 'Transferred to recipient mailbox',
  success: true,
};

export const NOT_COLLECTED: Omit<MessageOutcome, 'at'> = {
  event: 'SEND',
  code: '14',
  description: 'Message not collected by recipient after 5 days',
  success: false,
};

/** Chunk numbers (1-based) not uploaded yet. */
export function missingChunks(record: MessageRecord, upTo = record.totalChunks): number[] {
  const missing: number[] = [];
  for (let n = 1; n <= upTo; n++) if (!record.chunks[n - 1]) missing.push(n);
  return missing;
}
