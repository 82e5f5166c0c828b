import { createGunzip } from 'node:zlib';
import type { LocalMailbox } from '../config.js';
import { header } from '../http-input.js';
import { chunkContentType, messageHeaders, withInjectedHeaders } from '../message-headers.js';
import type { MessageRecord } from '../message.js';
import { MeshErrors } from '../mesh-errors.js';
import { acceptsGzip } from '../negotiation.js';
import { emptyReply, type Reply } from '../reply.js';
import { parseChunkNumber } from '../routes.js';
import { httpDate } from '../time.js';
import type { MeshRequest } from './context.js';

function requestedChunk(raw: string | undefined, messageId: string): number {
  if (raw === undefined) return 1;
  const n = parseChunkNumber(raw);
  if (n === undefined) throw MeshErrors.messageDoesNotExist(messageId);
  return n;
}

/** The message as its recipient may read it; 404, 403 or 410 otherwise. */
function readableMessage(request: MeshRequest, mailbox: string): MessageRecord {
  const messageId = request.params.messageId!;
  const record = request.state.mailroom.get(messageId);
  if (!record || record.status === 'uploading') throw MeshErrors.messageDoesNotExist(messageId);
  if (record.recipient !== mailbox) throw MeshErrors.forbidden();
  // Stricter than the sandbox, which still serves acknowledged messages: the spec says they cannot be downloaded.
  if (record.status !== 'accepted') throw MeshErrors.gone(messageId);
  return record;
}

interface ChunkRepresentation {
  status: number;
  headers: Record<string, string>;
  /** Whether the stored gzip bytes are inflated on the way out. */
  inflate: boolean;
  /** An injected message's answer is written byte for byte, whatever its headers hold. */
  verbatim: boolean;
}

/**
 * Per-chunk gzip negotiation (reference §6): a gzip chunk goes out as stored to a client that accepts gzip and is
 * inflated for one that does not; a plain chunk always goes out plain.
 */
function representChunk(request: MeshRequest, record: MessageRecord, chunkNo: number): ChunkRepresentation {
  const headers = messageHeaders(record, chunkNo);
  const verbatim = record.injected !== undefined;
  const finish = (h: Record<string, string>) =>
    withInjectedHeaders(h, record, chunkNo, request.req.method === 'GET');
  if (record.messageType === 'REPORT') {
    // Reports have no body and no chunks: mex-Chunk-Range says 1:0, as the sandbox does.
    if (chunkNo !== 1) throw MeshErrors.messageDoesNotExist(record.messageId);
    return {
      status: 200,
      headers: finish({ ...headers, 'content-type': chunkContentType(record), 'content-length': '0' }),
      inflate: false,
      verbatim,
    };
  }
  if (chunkNo > record.totalChunks) throw MeshErrors.messageDoesNotExist(record.messageId);
  const chunk = record.chunks[chunkNo - 1];
  if (!chunk) throw MeshErrors.messageDoesNotExist(record.messageId);
  const gzipStored = record.contentEncoding === 'gzip';
  const inflate = gzipStored && !acceptsGzip(header(request.req, 'accept-encoding'));
  // Inflated on the fly, a chunk's size is not known before it is sent, so it goes out chunked.
  const length = inflate ? undefined : chunk.size;
  return {
    status: chunkNo < record.totalChunks ? 206 : 200,
    headers: finish({
      ...headers,
      'content-type': chunkContentType(record),
      ...(length !== undefined ? { 'content-length': String(length) } : {}),
      ...(gzipStored && !inflate ? { 'content-encoding': 'gzip' } : {}),
      etag: `"${chunk.sha256.slice(0, 32)}${inflate ? '-identity' : ''}"`,
      'last-modified': httpDate(new Date(chunk.storedAt)),
      vary: 'Accept-Encoding',
    }),
    inflate,
    verbatim,
  };
}

export async function downloadChunk(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const record = readableMessage(request, mailbox.id);
  const chunkNo = requestedChunk(request.params.chunk, record.messageId);
  const { status, headers, inflate, verbatim } = representChunk(request, record, chunkNo);
  request.state.stats.count('chunkDownloads');
  if (record.messageType === 'REPORT') return { status, headers, verbatim };
  const store = request.state.mailroom.store;
  return {
    status,
    headers,
    verbatim,
    stream: async () => {
      const stored = await store.readChunk(record.messageId, chunkNo);
      if (!inflate) return stored;
      const gunzip = createGunzip();
      stored.on('error', (err) => gunzip.destroy(err));
      // The reader may stop early (a client that hangs up); the stored stream must not stay open.
      gunzip.on('close', () => stored.destroy());
      return stored.pipe(gunzip);
    },
  };
}

/**
 * Metadata only. The recipient sees what a download would show; the sender may also look at its own message
 * in any state, as in the sandbox; anyone else gets 404.
 */
export async function headMessage(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const messageId = request.params.messageId!;
  const record = request.state.mailroom.get(messageId);
  const isRecipient = record?.recipient === mailbox.id;
  // A sender may look at its own message in any state, as in the sandbox.
  const isSender = record?.sender === mailbox.id;
  if (!record || (!isRecipient && !isSender)) throw MeshErrors.messageDoesNotExist(messageId);
  const chunkNo = requestedChunk(request.params.chunk, messageId);
  if (!isSender && record.status === 'uploading') throw MeshErrors.messageDoesNotExist(messageId);
  if (!isSender && record.status !== 'accepted') throw MeshErrors.gone(messageId);
  if (record.messageType === 'DATA' && chunkNo > record.totalChunks)
    throw MeshErrors.messageDoesNotExist(messageId);
  if (record.chunks[chunkNo - 1] || record.messageType === 'REPORT') {
    const { headers, verbatim } = representChunk(request, record, chunkNo);
    return { status: 200, headers, verbatim };
  }
  return emptyReply(200, messageHeaders(record, chunkNo));
}
