import type { InboundRecord } from '../inbound/inbound-record.js';

/**
 * Sent to the inbound-events queue once a message is stored in S3, before MESH is told it was collected. One per
 * MESH message: the queue is FIFO and `eventId` is its deduplication id, and consumers can rely on `eventId` too.
 */
export interface InboundEventV1 {
  readonly schema: 'nhs-mesh-pipeline.inbound';
  readonly version: 1;
  /** `inbound:{mailbox}:{messageId}`. */
  readonly eventId: string;
  readonly messageType: 'DATA' | 'REPORT';
  readonly messageId: string;
  /** The receiving mailbox. */
  readonly mailbox: string;
  readonly sender?: string;
  readonly workflowId?: string;
  readonly subject?: string;
  readonly localId?: string;
  /** The safe file name the object is stored under (the original is in the object's `mex-filename` metadata). */
  readonly fileName?: string;
  readonly contentType?: string;
  readonly size: number;
  readonly sha256?: string;
  /** Present when mex-Content-Checksum carried a SHA-256: whether the stored bytes match it. */
  readonly checksumVerified?: boolean;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly receivedAt: string;
  /** For REPORT messages: what MESH reported, and the outbound transfer it concerns when one was found. */
  readonly report?: {
    readonly code?: string;
    readonly event?: string;
    readonly description?: string;
    readonly linkedMessageId?: string;
    readonly linkedTransferId?: string;
  };
}

export function inboundEvent(record: InboundRecord, receivedAt: string): [string, string] {
  const eventId = `inbound:${record.mailboxId}:${record.messageId}`;
  const event: InboundEventV1 = {
    schema: 'nhs-mesh-pipeline.inbound',
    version: 1,
    eventId,
    messageType: record.messageType ?? 'DATA',
    messageId: record.messageId,
    mailbox: record.mailboxId,
    sender: record.sender,
    workflowId: record.workflowId,
    subject: record.subject,
    localId: record.localId,
    fileName: record.fileName,
    contentType: record.contentType,
    size: record.size ?? 0,
    sha256: record.sha256,
    checksumVerified: record.checksumVerified,
    bucket: record.bucket ?? '',
    key: record.key ?? '',
    versionId: record.versionId,
    receivedAt,
    report: record.report,
  };
  return [eventId, JSON.stringify(event)];
}
