import type { TransferRecord, TransferStatus } from '../outbound/transfer.js';

/**
 * Sent to the outbound-status queue on every status change of an outbound transfer. Delivery is at least once:
 * `eventId` is the same on a repeat, so consumers can drop duplicates by it.
 */
export interface OutboundStatusEventV1 {
  readonly schema: 'nhs-mesh-pipeline.outbound-status';
  readonly version: 1;
  /** `{transferId}:{status}:{attempt}`: unique per status change, and the same when that change is published again. */
  readonly eventId: string;
  readonly occurredAt: string;
  readonly transferId: string;
  readonly status: TransferStatus;
  /** Sending mailbox. */
  readonly mailbox?: string;
  readonly recipient?: string;
  readonly workflowId?: string;
  readonly localId?: string;
  readonly messageId?: string;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly size: number;
  readonly chunksSent: number;
  readonly totalChunks?: number;
  /**
   * SHA-256 (hex) of the original object, once the transfer is accepted. Absent before that, and when a send split
   * across invocations could not read its object again for it (deleted, replaced, or unreadable to the last
   * attempt).
   */
  readonly sha256?: string;
  /** Present for `rejected`, `failed`, `stalled` and `undeliverable`: MESH's code when it gave one, and why. */
  readonly error?: { readonly code?: string; readonly text: string };
}

export function outboundStatusEvent(record: TransferRecord, occurredAt: string): [string, string] {
  const eventId = `${record.transferId}:${record.status}:${record.attempts}`;
  const event: OutboundStatusEventV1 = {
    schema: 'nhs-mesh-pipeline.outbound-status',
    version: 1,
    eventId,
    occurredAt,
    transferId: record.transferId,
    status: record.status,
    mailbox: record.sender,
    recipient: record.recipient,
    workflowId: record.workflowId,
    localId: record.localId,
    messageId: record.messageId,
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
    size: record.size,
    chunksSent: record.chunksSent,
    totalChunks: record.totalChunks,
    sha256: record.sha256,
    error: record.errorText ? { code: record.errorCode, text: record.errorText } : undefined,
  };
  return [eventId, JSON.stringify(event)];
}
