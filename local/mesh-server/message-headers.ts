/** The `mex-*` and HTTP headers of a download or HEAD answer (reference §4.3). Empty values are left out. */
import { H } from '../../shared/mesh/protocol.js';
import type { MessageRecord } from './message.js';
import { httpDate, meshSecondsTimestamp } from './time.js';

export function messageHeaders(record: MessageRecord, chunkNo: number): Record<string, string> {
  const outcome = record.outcome;
  // An injected message may claim a different number of chunks from the number stored.
  const claimedTotal = record.injected?.claimedTotalChunks ?? record.totalChunks;
  const headers: Record<string, string | undefined> = {
    [H.from]: record.fromHeader,
    [H.to]: record.toHeader,
    [H.workflowId]: record.workflowId,
    [H.chunkRange]: `${chunkNo}:${claimedTotal}`,
    [H.totalChunks]: String(claimedTotal),
    [H.addressType]: 'ALL',
    [H.localId]: record.localId,
    [H.partnerId]: record.partnerId,
    [H.fileName]: record.fileName,
    [H.subject]: record.subject,
    [H.version]: '1.0',
    [H.messageType]: record.messageType,
    [H.messageId]: record.messageId,
    [H.contentCompressed]: record.contentCompressed ? 'Y' : undefined,
    [H.contentEncrypted]: record.contentEncrypted ? 'Y' : undefined,
    [H.contentChecksum]: record.contentChecksum,
    [H.contentType]: record.messageType === 'DATA' ? record.contentType : undefined,
    [H.statusCode]: outcome?.code,
    [H.statusEvent]: outcome?.event,
    [H.statusDescription]: outcome?.description,
    [H.statusSuccess]: outcome ? (outcome.success ? 'SUCCESS' : 'ERROR') : undefined,
    [H.statusTimestamp]: outcome ? meshSecondsTimestamp(new Date(outcome.at)) : undefined,
    [H.linkedMessageId]: record.linkedMessageId,
    'last-modified': httpDate(new Date(record.acceptedAt ?? record.statusAt)),
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => !!e[1]));
}

/**
 * The final say of an admin-injected message over its headers: its Content-Encoding, its overrides, and for a GET
 * (`forDownload`) the chunk's own overrides, which may contradict what HEAD said. `null` removes a header.
 */
export function withInjectedHeaders(
  headers: Record<string, string>,
  record: MessageRecord,
  chunkNo: number,
  forDownload: boolean,
): Record<string, string> {
  const injected = record.injected;
  if (!injected) return headers;
  const merged: Record<string, string | null | undefined> = {
    ...headers,
    ...(injected.contentEncoding ? { 'content-encoding': injected.contentEncoding } : {}),
    ...injected.headers,
    ...(forDownload ? injected.chunkHeaders[chunkNo - 1] : undefined),
  };
  return Object.fromEntries(
    Object.entries(merged).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/** The wire type: the sender's content type for a one-chunk message, octet-stream for chunks and reports. */
export function chunkContentType(record: MessageRecord): string {
  return record.messageType === 'DATA' && record.totalChunks === 1
    ? record.contentType
    : 'application/octet-stream';
}
