import type { TrackingBody } from '../../../shared/mesh/protocol.js';
import type { LocalMailbox } from '../config.js';
import type { MessageRecord } from '../message.js';
import { MeshErrors, missingField, validationError } from '../mesh-errors.js';
import { jsonReply, type Reply } from '../reply.js';
import { meshSecondsTimestamp } from '../time.js';
import type { MeshRequest, ServerState } from './context.js';

function trackingV2(record: MessageRecord, state: ServerState): TrackingBody {
  const recipient = state.config.mailboxes.get(record.recipient);
  const outcome = record.outcome;
  return {
    message_id: record.messageId,
    local_id: record.localId ?? null,
    workflow_id: record.workflowId,
    filename: record.fileName,
    expiry_time: record.expiresAt ?? null,
    upload_timestamp: record.createdAt,
    recipient: record.recipient,
    recipient_name: recipient?.name ?? null,
    recipient_ods_code: recipient?.ods ?? null,
    recipient_org_code: recipient?.orgCode ?? null,
    recipient_org_name: recipient?.orgName ?? null,
    // Like the sandbox: a data message counts as successful until something has gone wrong with it.
    status_success: outcome ? outcome.success : true,
    status: record.status,
    status_event: outcome?.event ?? null,
    status_timestamp: record.statusAt,
    status_description: outcome?.description ?? null,
    status_code: outcome?.code ?? null,
  };
}

const stamp = (iso: string | undefined) => (iso ? meshSecondsTimestamp(new Date(iso)) : null);

/** The deprecated lookup by local id always answers in the v1 shape. */
function trackingV1(record: MessageRecord, state: ServerState): Record<string, unknown> {
  const recipient = state.config.mailboxes.get(record.recipient);
  const sender = record.sender ? state.config.mailboxes.get(record.sender) : undefined;
  const failed = record.outcome && !record.outcome.success;
  return {
    addressType: 'ALL',
    checksum: record.contentChecksum ?? null,
    chunkCount: record.totalChunks,
    compressFlag: record.contentCompressed ? 'Y' : null,
    contentEncoding: record.contentEncoding ?? '',
    downloadTimestamp: stamp(record.acknowledgedAt),
    dtsId: record.messageId,
    encryptedFlag: record.contentEncrypted ? 'Y' : null,
    expiryTime: stamp(record.expiresAt),
    failureDate: failed ? stamp(record.outcome?.at) : null,
    failureDiagnostic: failed ? (record.outcome?.description ?? null) : null,
    fileName: record.fileName,
    fileSize: record.chunks.reduce((sum, c) => sum + (c?.size ?? 0), 0),
    localId: record.localId ?? null,
    meshRecipientOdsCode: recipient?.ods ?? null,
    messageId: record.messageId,
    messageType: record.messageType === 'DATA' ? 'Data' : 'Report',
    partnerId: record.partnerId ?? null,
    recipient: record.recipient,
    recipientName: recipient?.name ?? null,
    recipientOrgCode: recipient?.orgCode ?? null,
    recipientOrgName: recipient?.orgName ?? null,
    sender: record.sender ?? null,
    senderName: sender?.name ?? null,
    senderOdsCode: sender?.ods ?? null,
    status: record.status.charAt(0).toUpperCase() + record.status.slice(1),
    statusCode: record.outcome?.code ?? null,
    statusDescription: record.outcome?.description ?? null,
    statusEvent: record.outcome?.event ?? null,
    statusSuccess: failed ? 'ERROR' : 'SUCCESS',
    statusTimestamp: stamp(record.statusAt),
    subject: record.subject ?? null,
    uploadTimestamp: stamp(record.createdAt),
    version: '1.0',
    workflowId: record.workflowId,
  };
}

/** GET outbox/tracking?messageID=, or the deprecated outbox/tracking/{local_id}. Only the sender may track. */
export async function track(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const { state, url, params } = request;
  if (params.localId !== undefined) {
    const matches = state.mailroom.sentBy(mailbox.id).filter((r) => r.localId === params.localId);
    if (matches.length === 0) throw MeshErrors.messageDoesNotExist();
    if (matches.length > 1) throw MeshErrors.multipleLocalIdMatches();
    return jsonReply(200, trackingV1(matches[0]!, state));
  }
  const messageId = url.searchParams.get('messageID')?.trim();
  if (!messageId) throw validationError([missingField('query', 'messageID')]);
  const record = state.mailroom.get(messageId.toUpperCase());
  // Someone else's message is reported as missing rather than forbidden, as MESH does.
  if (!record || record.sender !== mailbox.id) throw MeshErrors.messageDoesNotExist(messageId);
  return jsonReply(200, trackingV2(record, state));
}
