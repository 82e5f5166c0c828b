/** Validation of the headers of a send (reference §4.1), in the sandbox's order: shape, hygiene, checksum, encoding. */
import type { IncomingHttpHeaders } from 'node:http';
import { H, parseChunkRange } from '../../shared/mesh/protocol.js';
import { MeshErrors, missingField, validationError, type ValidationIssue } from './mesh-errors.js';

export interface SendHeaders {
  to: string;
  workflowId: string;
  chunkRange?: string;
  subject?: string;
  localId?: string;
  partnerId?: string;
  fileName?: string;
  contentCompressed: boolean;
  contentEncrypted: boolean;
  contentChecksum?: string;
  /** mex-Content-Type, else Content-Type, else octet-stream. */
  contentType: string;
  contentEncoding?: 'gzip';
}

/** Longest value each header may carry (the sandbox's FastAPI limits). */
export const HEADER_MAX_LENGTHS: Readonly<Record<string, number>> = {
  [H.to]: 100,
  [H.workflowId]: 300,
  [H.chunkRange]: 20,
  [H.subject]: 500,
  [H.localId]: 300,
  [H.partnerId]: 500,
  [H.fileName]: 300,
  [H.contentChecksum]: 100,
  [H.contentType]: 100,
  [H.contentEncrypted]: 20,
  [H.contentCompressed]: 20,
};

const URL_VALUE = /^https?:\/\//i;
const CHECKSUM = /^[A-Za-z0-9\s:/-]*$/;
const TRUTHY = new Set(['y', 'yes', 't', 'true', 'on', '1']);

const hasControlCharacter = (text: string) => [...text].some((c) => c.charCodeAt(0) < 0x20);

const value = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const raw = headers[name];
  return Array.isArray(raw) ? raw.join(', ') : raw;
};

const optional = (headers: IncomingHttpHeaders, name: string): string | undefined =>
  value(headers, name) || undefined;

function shapeIssues(headers: IncomingHttpHeaders): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const name of [H.to, H.workflowId])
    if (!value(headers, name)?.trim()) issues.push(missingField('header', name));
  for (const [name, limit] of Object.entries(HEADER_MAX_LENGTHS)) {
    const v = value(headers, name);
    if (v !== undefined && v.length > limit) {
      issues.push({
        loc: ['header', name],
        msg: `ensure this value has at most ${limit} characters`,
        type: 'value_error.any_str.max_length',
        ctx: { limit_value: limit },
      });
    }
  }
  return issues;
}

/** Throws the MeshHttpError MESH would answer with; returns the normalised headers otherwise. */
export function readSendHeaders(headers: IncomingHttpHeaders): SendHeaders {
  const issues = shapeIssues(headers);
  if (issues.length > 0) throw validationError(issues);

  const to = value(headers, H.to)!.trim().toUpperCase();
  const workflowId = value(headers, H.workflowId)!.trim();
  const checksum = optional(headers, H.contentChecksum);
  const controlled = Object.entries(headers).some(
    ([name, v]) => name.startsWith('mex-') && hasControlCharacter(Array.isArray(v) ? v.join() : (v ?? '')),
  );
  if (controlled || [to, workflowId, checksum ?? ''].some((v) => URL_VALUE.test(v))) {
    throw MeshErrors.malformedControlFile();
  }
  if (checksum !== undefined && !CHECKSUM.test(checksum.trim())) throw MeshErrors.invalidChecksum();

  const encoding = value(headers, 'content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'gzip') throw MeshErrors.unsupportedContentEncoding();

  return {
    to,
    workflowId,
    chunkRange: value(headers, H.chunkRange)?.trim() || undefined,
    subject: optional(headers, H.subject),
    localId: optional(headers, H.localId),
    partnerId: optional(headers, H.partnerId),
    fileName: optional(headers, H.fileName),
    contentCompressed: TRUTHY.has((value(headers, H.contentCompressed) ?? '').trim().toLowerCase()),
    contentEncrypted: TRUTHY.has((value(headers, H.contentEncrypted) ?? '').trim().toLowerCase()),
    contentChecksum: checksum,
    contentType:
      optional(headers, H.contentType) ?? optional(headers, 'content-type') ?? 'application/octet-stream',
    ...(encoding === 'gzip' ? { contentEncoding: 'gzip' as const } : {}),
  };
}

/** `k:N` with 1 <= k <= N, or undefined when malformed. */
export function parseStrictChunkRange(raw: string | undefined): { index: number; total: number } | undefined {
  const range = parseChunkRange(raw);
  return range && range.index >= 1 && range.index <= range.total ? range : undefined;
}

/** The transport encoding of a chunk upload, normalised for comparison with chunk 1's. */
export function chunkEncoding(headers: IncomingHttpHeaders): string {
  return (value(headers, 'content-encoding') ?? '').trim().toLowerCase();
}
