import type { IncomingMessage } from 'node:http';
import { H, type SendResponseBody } from '../../../shared/mesh/protocol.js';
import type { LocalMailbox } from '../config.js';
import { InvalidGzipBodyError, RequestBodyTooLargeError } from '../errors.js';
import { declaredLength, header } from '../http-input.js';
import { missingChunks, type MessageRecord, type StoredChunk } from '../message.js';
import { MeshErrors } from '../mesh-errors.js';
import { emptyReply, jsonReply, type Reply } from '../reply.js';
import { parseChunkNumber } from '../routes.js';
import { chunkEncoding, parseStrictChunkRange, readSendHeaders } from '../send-headers.js';
import { receiveBody } from '../store/body-receiver.js';
import type { ChunkWriter } from '../store/types.js';
import type { MeshRequest, ServerState } from './context.js';

function refuseDeclaredOversize(req: IncomingMessage, limit: number, messageId?: string): void {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) throw MeshErrors.payloadTooLarge(limit, messageId);
}

/** Streams the body into the writer; a body that is empty, too big or not the gzip it claims is refused. */
async function receiveChunk(
  req: IncomingMessage,
  writer: ChunkWriter,
  state: ServerState,
  gzip: boolean,
  messageId?: string,
): Promise<Omit<StoredChunk, 'storedAt'>> {
  const limit = state.config.maxRequestBytes;
  try {
    const received = await receiveBody(req, writer, { limit, gzip });
    if (received.size === 0) {
      await writer.abort();
      throw MeshErrors.missingDataFile(messageId);
    }
    return received;
  } catch (err) {
    if (err instanceof RequestBodyTooLargeError) throw MeshErrors.payloadTooLarge(limit, messageId);
    if (err instanceof InvalidGzipBodyError) throw MeshErrors.invalidGzip(messageId);
    throw err;
  }
}

function checkWorkflowRegistration(
  state: ServerState,
  workflowId: string,
  sender: string,
  recipient: string,
): void {
  if (!state.config.enforceWorkflows) return;
  const workflow = state.config.workflows.get(workflowId);
  if (!workflow?.senders.includes(sender)) throw MeshErrors.workflowNotRegistered('sender');
  if (!workflow.receivers.includes(recipient)) throw MeshErrors.workflowNotRegistered('recipient');
}

/** POST outbox: a whole message, or chunk 1 of N with every piece of metadata. */
export async function sendMessage(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const { req, state } = request;
  const { mailroom, stats, config } = state;
  const meta = readSendHeaders(req.headers);
  const range =
    meta.chunkRange === undefined ? { index: 1, total: 1 } : parseStrictChunkRange(meta.chunkRange);
  if (!range || range.index !== 1)
    throw MeshErrors.invalidHeaderChunks(undefined, 'the first POST carries chunk 1');
  const recipient = config.mailboxes.get(meta.to);
  if (!recipient) throw MeshErrors.unregisteredRecipient();
  checkWorkflowRegistration(state, meta.workflowId, mailbox.id, recipient.id);
  refuseDeclaredOversize(req, config.maxRequestBytes);

  const messageId = mailroom.newMessageId();
  const writer = await mailroom.store.openChunkWriter(messageId, 1);
  const chunk = await receiveChunk(req, writer, state, meta.contentEncoding === 'gzip');
  await writer.commit();

  const now = config.now().toISOString();
  const record: MessageRecord = {
    messageId,
    messageType: 'DATA',
    sender: mailbox.id,
    recipient: recipient.id,
    fromHeader: mailbox.id,
    toHeader: recipient.id,
    workflowId: meta.workflowId,
    subject: meta.subject,
    localId: meta.localId,
    partnerId: meta.partnerId,
    fileName: meta.fileName ?? `${messageId}.dat`,
    contentType: meta.contentType,
    contentCompressed: meta.contentCompressed,
    contentEncrypted: meta.contentEncrypted,
    contentChecksum: meta.contentChecksum,
    contentEncoding: meta.contentEncoding,
    totalChunks: range.total,
    chunks: Array.from({ length: range.total }, (_, i) => (i === 0 ? { ...chunk, storedAt: now } : null)),
    status: 'uploading',
    statusAt: now,
    createdAt: now,
  };
  await mailroom.add(record);
  stats.count('sendsAccepted');
  stats.count('chunksUploaded');
  if (range.total === 1) {
    await mailroom.accept(record);
    stats.count('messagesFinalised');
  }
  const body: SendResponseBody = { message_id: messageId };
  return { ...jsonReply(202, body), messageId };
}

/**
 * POST outbox/{id}/{n}: chunk n of N. Checks follow the sandbox's order (404, 403, 423, 417, 406, 417). Unlike the
 * sandbox, chunk N is refused until 1..N-1 are all in, so the message is never finalised with holes.
 */
export async function uploadChunk(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const { req, state, params } = request;
  const { mailroom, stats, config } = state;
  const messageId = params.messageId!;
  const chunkNo = parseChunkNumber(params.chunk);
  const record = mailroom.get(messageId);
  if (!record) throw MeshErrors.messageDoesNotExist(messageId);
  if (record.sender !== mailbox.id) throw MeshErrors.forbidden();
  if (record.status !== 'uploading') throw MeshErrors.locked(messageId);
  const range = parseStrictChunkRange(header(req, H.chunkRange));
  if (!range || chunkNo === undefined || range.index !== chunkNo) {
    throw MeshErrors.invalidHeaderChunks(
      messageId,
      'it must be n:N with n equal to the chunk number in the URL',
    );
  }
  if (chunkNo < 2) throw MeshErrors.invalidHeaderChunks(messageId, 'chunk 1 is sent with the first POST');
  if (chunkNo > record.totalChunks) throw MeshErrors.chunkNotAcceptable(messageId, record.totalChunks);
  if (range.total !== record.totalChunks) {
    throw MeshErrors.invalidHeaderChunks(messageId, `the message has ${record.totalChunks} chunks`);
  }
  if (chunkEncoding(req.headers) !== (record.contentEncoding ?? ''))
    throw MeshErrors.contentEncodingChanged(messageId);
  if (chunkNo === record.totalChunks) {
    const missing = missingChunks(record, chunkNo - 1);
    if (missing.length > 0) throw MeshErrors.chunksOutOfOrder(messageId, missing);
  }
  refuseDeclaredOversize(req, config.maxRequestBytes, messageId);

  const writer = await mailroom.store.openChunkWriter(messageId, chunkNo);
  const chunk = await receiveChunk(req, writer, state, record.contentEncoding === 'gzip', messageId);
  await mailroom.withLock(messageId, async () => {
    // The message may have been finalised, expired or reset while this chunk streamed in.
    if (mailroom.get(messageId) !== record || record.status !== 'uploading') {
      await writer.abort();
      throw MeshErrors.locked(messageId);
    }
    await writer.commit();
    record.chunks[chunkNo - 1] = { ...chunk, storedAt: config.now().toISOString() };
    stats.count('chunksUploaded');
    if (missingChunks(record).length === 0) {
      await mailroom.accept(record);
      stats.count('messagesFinalised');
    } else {
      await mailroom.save(record);
    }
  });
  return emptyReply(202);
}
