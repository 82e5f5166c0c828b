/**
 * `mesh transfer show` and `mesh message show`: what the pipeline's records say of an outbound transfer or an
 * inbound message, found by any reference an operator is likely to hold.
 */
import type { InboundRecord } from '../../shared/inbound/inbound-record.js';
import type { TransferRecord } from '../../shared/outbound/transfer.js';
import type { Operations } from '../../shared/operations/aws.js';
import { findMessages } from '../../shared/operations/find-message.js';
import { findTransfers } from '../../shared/operations/find-transfer.js';
import type { Output } from '../commands.js';
import { sayFields, time } from './output.js';

export async function showTransferCommand(
  ops: Operations,
  out: Output,
  ref: string,
  mailbox?: string,
): Promise<void> {
  const found = await findTransfers(ops, ref, { mailbox });
  if (out.json) {
    return out.result({
      reference: found.reference,
      foundBy: found.foundBy,
      transfers: found.transfers.map(transferJson),
    });
  }
  for (const [i, t] of found.transfers.entries()) {
    if (i > 0) out.say('');
    sayFields(out, `transfer ${t.transferId}  ${t.status}`, [
      [
        'object',
        `s3://${t.bucket}/${t.key} (${t.size} bytes${t.versionId ? `, version ${t.versionId}` : ''})`,
      ],
      ['from → to', t.sender || t.recipient ? `${t.sender ?? '?'} → ${t.recipient ?? '?'}` : undefined],
      ['workflow', t.workflowId],
      ['local id', t.localId],
      ['MESH message', t.messageId],
      [
        'chunks',
        t.totalChunks === undefined
          ? undefined
          : `${t.chunksSent}/${t.totalChunks} (${t.bytesSent} bytes sent)`,
      ],
      ['sha256', t.sha256],
      ['attempts', String(t.attempts)],
      [
        'reasons',
        t.errorCode || t.errorText ? [t.errorCode, t.errorText].filter(Boolean).join(': ') : undefined,
      ],
      ['created', t.createdAt],
      ['updated', t.updatedAt],
      ['accepted', t.acceptedAt],
      ['finished', t.finishedAt],
      [
        'delivery checks',
        t.trackingChecks === undefined
          ? undefined
          : `${t.trackingChecks}, next ${time(t.nextTrackingAt) ?? '-'}`,
      ],
      ['lease', lease(t.leaseOwner, t.leaseExpiresAt)],
      ['events pending', pending(t.pendingEvents)],
    ]);
  }
  if (found.transfers.length > 1) out.say(`(${found.transfers.length} transfers of this key, newest first)`);
}

export async function showMessageCommand(
  ops: Operations,
  out: Output,
  ref: string,
  mailbox?: string,
): Promise<void> {
  const found = await findMessages(ops, ref, { mailbox });
  if (out.json) {
    return out.result({
      reference: found.reference,
      foundBy: found.foundBy,
      messages: found.messages.map(messageJson),
    });
  }
  for (const [i, m] of found.messages.entries()) {
    if (i > 0) out.say('');
    sayFields(out, `message ${m.messageId} of ${m.mailboxId}  ${m.status}`, [
      ['type', m.messageType],
      ['from', m.sender],
      ['workflow', m.workflowId],
      ['subject', m.subject],
      ['local id', m.localId],
      [
        'file name',
        m.fileName === m.originalFileName ? m.fileName : `${m.fileName} (sent as ${m.originalFileName})`,
      ],
      ['stored at', m.bucket && m.key ? `s3://${m.bucket}/${m.key}` : undefined],
      ['size', m.size === undefined ? undefined : `${m.size} bytes`],
      [
        'sha256',
        m.sha256 === undefined
          ? undefined
          : `${m.sha256}${m.checksumVerified === undefined ? '' : m.checksumVerified ? ' (matches mex-Content-Checksum)' : ' (DOES NOT match mex-Content-Checksum)'}`,
      ],
      [
        'report',
        m.report
          ? [
              m.report.code,
              m.report.description,
              m.report.linkedMessageId && `about ${m.report.linkedMessageId}`,
            ]
              .filter(Boolean)
              .join(' ')
          : undefined,
      ],
      [
        'progress',
        m.uploadId
          ? `${m.parts?.length ?? 0} part(s) uploaded, next chunk ${m.nextChunk ?? 1}/${m.totalChunks ?? '?'}`
          : undefined,
      ],
      ['attempts', String(m.attempts)],
      [
        'reasons',
        m.errorCode || m.errorText ? [m.errorCode, m.errorText].filter(Boolean).join(': ') : undefined,
      ],
      ['created', m.createdAt],
      ['last queued', time(m.lastQueuedAt)],
      ['stored', m.storedAt],
      ['acknowledged', m.acknowledgedAt],
      ['lease', lease(m.leaseOwner, m.leaseExpiresAt)],
      ['events pending', pending(m.pendingEvents)],
    ]);
  }
}

/** A transfer record as JSON: its times as ISO strings, and only the ids of the events still to publish. */
function transferJson(t: TransferRecord) {
  return {
    ...t,
    leaseExpiresAt: time(t.leaseExpiresAt),
    nextTrackingAt: time(t.nextTrackingAt),
    nextRecheckAt: time(t.nextRecheckAt),
    pendingEvents: Object.keys(t.pendingEvents ?? {}),
  };
}

/** An inbound record as JSON: as transferJson, and a count of the uploaded parts instead of their list. */
function messageJson(m: InboundRecord) {
  const { parts, ...rest } = m;
  return {
    ...rest,
    partsUploaded: parts?.length,
    leaseExpiresAt: time(m.leaseExpiresAt),
    lastQueuedAt: time(m.lastQueuedAt),
    pendingEvents: Object.keys(m.pendingEvents ?? {}),
  };
}

/** Who holds the record's lease and until when, or when it lapsed. */
function lease(owner: string | undefined, expiresAt: number | undefined): string | undefined {
  if (expiresAt === undefined) return undefined;
  const live = expiresAt > Date.now();
  return `${live ? 'held' : 'lapsed'}${owner ? ` by ${owner}` : ''} ${live ? 'until' : 'at'} ${time(expiresAt)}`;
}

function pending(events: Readonly<Record<string, string>> | undefined): string | undefined {
  const ids = Object.keys(events ?? {});
  return ids.length === 0 ? undefined : ids.join(', ');
}
