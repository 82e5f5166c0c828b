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

/** Messages the mailbox sent that its tracking indexes show yet (the configured lag after upload). */
function visibleSentBy(state: ServerState, mailboxId: string): MessageRecord[] {
  const cutoff = state.config.now().getTime() - state.tracking.lagMs;
  return state.mailroom
    .sentBy(mailboxId)
    .filter((r) => state.tracking.lagMs === 0 || Date.parse(r.createdAt) <= cutoff);
}

const OUTBOX_PAGE = 100;

/**
 * GET outbox/rich?start_time=: the sandbox's outbox listing (newest first, from `start_time`, default the past 30
 * days, pages of 100 with `links.next`). Not in MESH's published spec; the pipeline uses it as a second way, beside
 * the deprecated tracking by local id, to look for a message whose send outcome is unknown.
 */
export async function listOutbox(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const { state, url } = request;
  const startParam = url.searchParams.get('start_time');
  const start = startParam ? Date.parse(startParam) : state.config.now().getTime() - 30 * 24 * 3600_000;
  if (Number.isNaN(start))
    throw validationError([
      { loc: ['query', 'start_time'], msg: 'invalid datetime', type: 'value_error.datetime' },
    ]);
  const offset = Number(url.searchParams.get('continue_from') ?? '0');
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw validationError([
      { loc: ['query', 'continue_from'], msg: 'invalid continue_from', type: 'value_error' },
    ]);
  }
  const all = visibleSentBy(state, mailbox.id)
    .filter((r) => r.messageType === 'DATA' && Date.parse(r.createdAt) >= start)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const page = all.slice(offset, offset + OUTBOX_PAGE);
  const self = `/messageexchange/${mailbox.id}/outbox/rich?start_time=${encodeURIComponent(new Date(start).toISOString())}`;
  const links: Record<string, string> = { self };
  if (offset + OUTBOX_PAGE < all.length) links['next'] = `${self}&continue_from=${offset + OUTBOX_PAGE}`;
  return jsonReply(200, {
    valid_at: state.config.now().toISOString(),
    messages: page.map((r) => ({
      message_id: r.messageId,
      local_id: r.localId ?? '',
      message_type: r.messageType,
      recipient: r.recipient,
      sender: r.sender ?? '',
      sent_date: r.createdAt,
      status: r.status.charAt(0).toUpperCase() + r.status.slice(1),
      status_code: r.outcome?.code ?? '',
      workflow_id: r.workflowId,
    })),
    links,
  });
}

/** GET outbox/tracking?messageID=, or the deprecated outbox/tracking/{local_id}. Only the sender may track. */
export async function track(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const { state, url, params } = request;
  if (params.localId !== undefined) {
    const matches = visibleSentBy(state, mailbox.id).filter((r) => r.localId === params.localId);
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
