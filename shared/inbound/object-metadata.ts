import type { MessageMetadata } from '../mesh/index.js';

/**
 * S3 allows 2 KB of user metadata in all (names and values); a hostile message's huge headers must not break the
 * upload. Every entry is counted with its `x-amz-meta-` prefix, in case S3 counts it, and room is kept for the
 * flags and for `mex-omitted` naming every header, so no combination of values can pass the limit.
 */
const S3_METADATA_LIMIT_BYTES = 2048;
const PREFIX_BYTES = 'x-amz-meta-'.length;
const MAX_VALUE_BYTES = 400;

/** The headers worth keeping with the stored object, most useful first. */
const KEPT: readonly [string, keyof MessageMetadata][] = [
  ['mex-messageid', 'messageId'],
  ['mex-from', 'from'],
  ['mex-to', 'to'],
  ['mex-workflowid', 'workflowId'],
  ['mex-localid', 'localId'],
  ['mex-filename', 'fileName'],
  ['mex-content-type', 'contentType'],
  ['mex-content-checksum', 'contentChecksum'],
  ['mex-subject', 'subject'],
  ['mex-messagetype', 'messageType'],
];

/** Flags (one byte each) and a `mex-omitted` that lists every kept header. */
const RESERVED_BYTES =
  PREFIX_BYTES * 3 +
  'mex-content-compressed'.length +
  1 +
  'mex-content-encrypted'.length +
  1 +
  'mex-omitted'.length +
  KEPT.map(([name]) => name).join(',').length;

/**
 * The message's mex- headers as S3 user metadata. Values are URL-encoded (S3 metadata must be ASCII); a value too
 * long to keep is left out and named in `mex-omitted`, so nothing is silently cut short.
 */
export function objectMetadata(metadata: MessageMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  const omitted: string[] = [];
  let used = RESERVED_BYTES;
  for (const [name, field] of KEPT) {
    const raw = metadata[field];
    if (raw === undefined || typeof raw === 'object') continue;
    const value = encodeURIComponent(String(raw));
    const cost = PREFIX_BYTES + name.length + value.length;
    if (value.length > MAX_VALUE_BYTES || used + cost > S3_METADATA_LIMIT_BYTES) {
      omitted.push(name);
      continue;
    }
    out[name] = value;
    used += cost;
  }
  if (metadata.contentCompressed !== undefined)
    out['mex-content-compressed'] = metadata.contentCompressed ? 'Y' : 'N';
  if (metadata.contentEncrypted !== undefined)
    out['mex-content-encrypted'] = metadata.contentEncrypted ? 'Y' : 'N';
  if (omitted.length > 0) out['mex-omitted'] = omitted.join(',');
  return out;
}
