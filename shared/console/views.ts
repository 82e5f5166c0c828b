import type { InboundRecord } from '../inbound/inbound-record.js';
import type { TransferRecord, TransferStatus } from '../outbound/transfer.js';

/** One step of a transfer's journey as the page shows it. */
export interface TimelineStep {
  readonly status:
    'received' | 'sending' | 'accepted' | 'delivered' | 'undeliverable' | 'rejected' | 'failed' | 'stalled';
  readonly label: string;
  readonly at?: string;
  readonly state: 'done' | 'current' | 'failed';
}

export interface TransferView {
  readonly transferId: string;
  readonly status: TransferStatus;
  readonly final: boolean;
  readonly mailboxId?: string;
  readonly recipient?: string;
  readonly workflowId?: string;
  readonly subject?: string;
  readonly localId?: string;
  readonly fileName?: string;
  readonly key: string;
  readonly size: number;
  readonly messageId?: string;
  readonly chunksSent: number;
  readonly totalChunks?: number;
  readonly sha256?: string;
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Every reason the pipeline or MESH gave, one per line. */
  readonly errors: readonly string[];
  /** What the person looking at it can do about it. */
  readonly advice: string;
  readonly timeline: readonly TimelineStep[];
}

export interface MessageView {
  readonly mailboxId: string;
  readonly messageId: string;
  readonly status: InboundRecord['status'];
  readonly messageType: 'DATA' | 'REPORT';
  readonly sender?: string;
  readonly workflowId?: string;
  readonly subject?: string;
  readonly localId?: string;
  readonly fileName?: string;
  readonly contentType?: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly checksumVerified?: boolean;
  readonly receivedAt: string;
  /** The file can be downloaded: stored in the inbound bucket. */
  readonly downloadable: boolean;
  readonly report?: InboundRecord['report'];
  readonly errors: readonly string[];
}

const FINAL: readonly TransferStatus[] = ['rejected', 'failed', 'delivered', 'undeliverable'];

const ADVICE: Readonly<Record<TransferStatus, string>> = {
  received: 'The pipeline has the file and starts sending it to MESH shortly.',
  sending: 'The file is being sent to MESH, chunk by chunk.',
  stalled:
    'Sending stopped after repeated failures. An operator can redrive it from the operations page, and it carries ' +
    'on from its last chunk. Do not send the file again: that would be a second message.',
  accepted: 'MESH has the message. It is delivered when the recipient downloads it.',
  delivered: 'The recipient has downloaded the message. Nothing more to do.',
  undeliverable:
    'MESH could not deliver the message: the recipient did not collect it in time. Contact the recipient and ' +
    'send it again once their mailbox is being read.',
  rejected:
    'Nothing was sent: the pipeline refused the file for the reasons shown. Correct them and send the file again.',
  failed:
    'MESH refused the message for the reason shown (for example, the recipient is not registered for this ' +
    'workflow). Check the recipient and the workflow ID, then send it again.',
};

/** MESH's own error codes (`12`, `EPL-151`); the pipeline's own (an error class name) are already in the text. */
const MESH_CODE = /^(\d+|[A-Z]{2,5}-\d+)$/;

function errorsOf(record: { errorCode?: string; errorText?: string }): string[] {
  const code = record.errorCode && MESH_CODE.test(record.errorCode) ? record.errorCode : undefined;
  if (!record.errorText) return code ? [`MESH error ${code}`] : [];
  const reasons = record.errorText.split('; ').filter(Boolean);
  return code ? reasons.map((r) => `${r} (MESH error ${code})`) : reasons;
}

function sendingLabel(r: TransferRecord): string {
  return r.totalChunks ? `Sending: ${r.chunksSent} of ${r.totalChunks} chunks sent` : 'Sending';
}

/** The journey so far, with the step it is at; a refusal ends it where it happened. */
export function timelineOf(r: TransferRecord): TimelineStep[] {
  const steps: TimelineStep[] = [
    { status: 'received', label: 'Received by the pipeline', at: r.createdAt, state: 'done' },
  ];
  switch (r.status) {
    case 'received':
      return [{ ...steps[0]!, state: 'current' }];
    case 'rejected':
      return [
        ...steps,
        { status: 'rejected', label: 'Rejected before sending', at: r.finishedAt, state: 'failed' },
      ];
    case 'sending':
      return [...steps, { status: 'sending', label: sendingLabel(r), at: r.updatedAt, state: 'current' }];
    case 'stalled':
      return [
        ...steps,
        { status: 'sending', label: sendingLabel(r), state: 'done' },
        { status: 'stalled', label: 'Stalled: waiting for an operator', at: r.updatedAt, state: 'failed' },
      ];
    case 'failed':
      return [
        ...steps,
        { status: 'sending', label: sendingLabel(r), state: 'done' },
        { status: 'failed', label: 'Refused by MESH', at: r.finishedAt, state: 'failed' },
      ];
    default: {
      const accepted: TimelineStep = {
        status: 'accepted',
        label: `Accepted by MESH${r.messageId ? ` as message ${r.messageId}` : ''}`,
        at: r.acceptedAt,
        state: r.status === 'accepted' ? 'current' : 'done',
      };
      const sent = [
        ...steps,
        { status: 'sending', label: sendingLabel(r), state: 'done' } as const,
        accepted,
      ];
      if (r.status === 'delivered')
        return [
          ...sent,
          {
            status: 'delivered',
            label: 'Delivered: downloaded by the recipient',
            at: r.finishedAt,
            state: 'done',
          },
        ];
      if (r.status === 'undeliverable')
        return [
          ...sent,
          { status: 'undeliverable', label: 'Undeliverable', at: r.finishedAt, state: 'failed' },
        ];
      return sent;
    }
  }
}

export function transferView(r: TransferRecord): TransferView {
  return {
    transferId: r.transferId,
    status: r.status,
    final: FINAL.includes(r.status),
    mailboxId: r.sender,
    recipient: r.recipient,
    workflowId: r.workflowId,
    subject: r.subject,
    localId: r.localId,
    fileName: r.fileName,
    key: r.key,
    size: r.size,
    messageId: r.messageId,
    chunksSent: r.chunksSent ?? 0,
    totalChunks: r.totalChunks,
    sha256: r.sha256,
    attempts: r.attempts ?? 0,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    errors: errorsOf(r),
    advice: ADVICE[r.status],
    timeline: timelineOf(r),
  };
}

export function messageView(r: InboundRecord): MessageView {
  return {
    mailboxId: r.mailboxId,
    messageId: r.messageId,
    status: r.status,
    messageType: r.messageType ?? 'DATA',
    sender: r.sender,
    workflowId: r.workflowId,
    subject: r.subject,
    localId: r.localId,
    fileName: r.fileName,
    contentType: r.contentType,
    size: r.size,
    sha256: r.sha256,
    checksumVerified: r.checksumVerified,
    receivedAt: r.storedAt ?? r.createdAt,
    downloadable: (r.status === 'stored' || r.status === 'acknowledged') && !!r.bucket && !!r.key,
    report: r.report,
    errors: errorsOf(r),
  };
}

/** What of a transfer's record names or describes its file: kept from an operator who does not hold its mailbox. */
type TransferContent = 'fileName' | 'subject' | 'localId' | 'key' | 'sha256';
/** A transfer as an operator outside its mailbox's group sees it: its ids, status and reasons, nothing of the file. */
export type RestrictedTransferView = Omit<TransferView, TransferContent> & { readonly restricted: true };

export function restrictedTransferView(view: TransferView): RestrictedTransferView {
  const { fileName, subject, localId, key, sha256, ...rest } = view;
  void [fileName, subject, localId, key, sha256];
  return { ...rest, restricted: true };
}

type MessageContent = 'subject' | 'localId' | 'fileName' | 'contentType' | 'sha256' | 'report';
/** A received message as an operator outside its mailbox's group sees it: ids, status and reasons only. */
export type RestrictedMessageView = Omit<MessageView, MessageContent> & { readonly restricted: true };

export function restrictedMessageView(view: MessageView): RestrictedMessageView {
  const { subject, localId, fileName, contentType, sha256, report, ...rest } = view;
  void [subject, localId, fileName, contentType, sha256, report];
  return { ...rest, restricted: true };
}
