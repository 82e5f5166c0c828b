import type { MessageMetadata } from '../mesh/index.js';

/** S3 allows 2 KB of user metadata in all; a hostile message's huge headers must not break the upload. */
const METADATA_BUDGET_BYTES = 1900;
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

/**
 * The message's mex- headers as S3 user metadata. Values are URL-encoded (S3 metadata must be ASCII); a value too
 * long to keep is left out and named in `mex-omitted`, so nothing is silently cut short.
 */
export function objectMetadata(metadata: MessageMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  const omitted: string[] = [];
  let used = 0;
  for (const [name, field] of KEPT) {
    const raw = metadata[field];
    if (raw === undefined || typeof raw === 'object') continue;
    const value = encodeURIComponent(String(raw));
    const cost = name.length + value.length;
    if (value.length > MAX_VALUE_BYTES || used + cost > METADATA_BUDGET_BYTES) {
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
