import { H, parseChunkRange } from './protocol.js';

export type MeshMessageType = 'DATA' | 'REPORT';

/** A message's metadata, read from the mex- headers of a HEAD or download response. */
export interface MessageMetadata {
  readonly messageId: string;
  readonly messageType: MeshMessageType;
  readonly from?: string;
  readonly to?: string;
  readonly workflowId?: string;
  readonly subject?: string;
  readonly localId?: string;
  readonly partnerId?: string;
  readonly fileName?: string;
  /** The logical content type of the whole message. */
  readonly contentType?: string;
  readonly contentChecksum?: string;
  /** The sender's pass-through flag that the content itself is compressed (not transport gzip). */
  readonly contentCompressed?: boolean;
  readonly contentEncrypted?: boolean;
  readonly totalChunks: number;
  /** For reports: the message the report is about. */
  readonly linkedMessageId?: string;
  readonly statusCode?: string;
  readonly statusEvent?: string;
  readonly statusDescription?: string;
  readonly statusSuccess?: string;
  readonly statusTimestamp?: string;
  /** Every mex- header as received, lowercase names, for storing alongside the content. */
  readonly mexHeaders: Readonly<Record<string, string>>;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : utf8FromLatin1(text);
}

/**
 * HTTP header bytes reach us as Latin-1 characters. When they are really UTF-8 (a file name like `café.csv` sent by
 * a UTF-8 client) they are decoded as such; anything that is not valid UTF-8 is kept as it came.
 */
function utf8FromLatin1(text: string): string {
  const codes = [...text].map((c) => c.codePointAt(0)!);
  if (!codes.some((c) => c >= 0x80) || codes.some((c) => c > 0xff)) return text;
  const bytes = Buffer.from(text, 'latin1');
  const decoded = bytes.toString('utf8');
  return Buffer.from(decoded, 'utf8').equals(bytes) ? decoded : text;
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return /^(y|yes|true|1|on)$/i.test(value.trim());
}

export function parseMessageMetadata(headers: Headers, requestedId: string): MessageMetadata {
  const get = (name: string) => headerValue(headers, name);
  const mexHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const text = Array.isArray(value) ? value[0] : value;
    if (name.toLowerCase().startsWith('mex-') && text !== undefined) mexHeaders[name.toLowerCase()] = text;
  }
  const range = parseChunkRange(get(H.chunkRange));
  const totalHeader = Number(get(H.totalChunks));
  const type = get(H.messageType)?.toUpperCase() === 'REPORT' ? 'REPORT' : 'DATA';
  return {
    messageId: get(H.messageId) ?? requestedId,
    messageType: type,
    from: get(H.from),
    to: get(H.to),
    workflowId: get(H.workflowId),
    subject: get(H.subject),
    localId: get(H.localId),
    partnerId: get(H.partnerId),
    fileName: get(H.fileName),
    contentType: get(H.contentType) ?? get('content-type'),
    contentChecksum: get(H.contentChecksum),
    contentCompressed: flag(get(H.contentCompressed)),
    contentEncrypted: flag(get(H.contentEncrypted)),
    totalChunks: range?.total ?? (Number.isInteger(totalHeader) && totalHeader > 0 ? totalHeader : 1),
    linkedMessageId: get(H.linkedMessageId),
    statusCode: get(H.statusCode),
    statusEvent: get(H.statusEvent),
    statusDescription: get(H.statusDescription),
    statusSuccess: get(H.statusSuccess),
    statusTimestamp: get(H.statusTimestamp),
    mexHeaders,
  };
}
