/**
 * The error answers of MESH API v2 (reference §9): `{message_id?, detail: [{event, code, msg}]}` for MESH errors and
 * FastAPI's `{detail: [{loc, msg, type}]}` for request validation.
 */
import { MESH_CODES, type MeshErrorBody, type MeshErrorDetail } from '../../shared/mesh/protocol.js';
import { MeshHttpError } from './errors.js';

export interface ValidationIssue {
  loc: readonly (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

export function meshError(
  status: number,
  detail: { event: string; code: string; msg: string },
  messageId?: string,
  headers?: Record<string, string>,
): MeshHttpError {
  const body: MeshErrorBody = {
    ...(messageId ? { message_id: messageId } : {}),
    detail: [detail satisfies MeshErrorDetail],
  };
  return new MeshHttpError(status, body, { headers, message: `${status} ${detail.code} ${detail.msg}` });
}

export function validationError(issues: readonly ValidationIssue[]): MeshHttpError {
  return new MeshHttpError(
    400,
    { detail: issues },
    { message: `400 ${issues.map((i) => i.msg).join('; ')}` },
  );
}

export const missingField = (loc: 'header' | 'query', name: string): ValidationIssue => ({
  loc: [loc, name],
  msg: 'field required',
  type: 'value_error.missing',
});

export const MeshErrors = {
  forbidden: (msg = 'Forbidden', code = '') => meshError(403, { event: '', code, msg }),
  authHeaderUnreadable: () =>
    meshError(403, { event: '', code: '', msg: 'Error reading from Authorization header' }),
  mailboxTokenMismatch: () => meshError(403, { event: '', code: '', msg: 'Mailbox id does not match token' }),
  noMailboxMatched: () => meshError(403, { event: 'SEND', code: 'EPL-151', msg: 'No mailbox matched' }),
  invalidAuthToken: () => meshError(403, { event: '', code: '', msg: 'Invalid Authentication Token' }),
  authTokenOutsideWindow: () =>
    meshError(403, {
      event: '',
      code: '',
      msg: 'Authentication token timestamp is not within 2 hours of server time',
    }),
  duplicatedAuthToken: () =>
    meshError(403, { event: '', code: '', msg: 'Error Duplicated Authentication Token' }),
  certificateMailboxMismatch: () =>
    meshError(403, { event: '', code: '', msg: 'Client certificate is not issued to this mailbox' }),
  notFound: (msg = 'Not Found') => meshError(404, { event: '', code: '', msg }),
  messageDoesNotExist: (messageId?: string) =>
    meshError(
      404,
      { event: 'RECEIVE', code: MESH_CODES.messageDoesNotExist, msg: 'Message does not exist' },
      messageId,
    ),
  gone: (messageId: string) =>
    meshError(
      410,
      { event: 'SEND', code: 'Message already accepted', msg: 'Message no longer available for download' },
      messageId,
    ),
  malformedAccept: () => meshError(400, { event: '', code: '', msg: 'Accept header api format incorrect' }),
  onlyVersion2: () =>
    meshError(406, {
      event: '',
      code: '',
      msg: 'This local MESH server speaks only Accept: application/vnd.mesh.v2+json',
    }),
  malformedControlFile: () =>
    meshError(400, { event: 'TRANSFER', code: MESH_CODES.malformedControlFile, msg: 'MalformedControlFile' }),
  invalidChecksum: () => meshError(400, { event: 'SEND', code: 'Invalid checksum', msg: 'Invalid checksum' }),
  unsupportedContentEncoding: () =>
    meshError(422, {
      event: 'SEND',
      code: 'UnsupportedContentEncoding',
      msg: 'Unsupported content encoding',
    }),
  invalidGzip: (messageId?: string) =>
    meshError(
      400,
      {
        event: 'SEND',
        code: 'InvalidContentEncoding',
        msg: 'Content-Encoding is gzip but the body is not valid gzip',
      },
      messageId,
    ),
  invalidHeaderChunks: (messageId?: string, why?: string) =>
    meshError(
      417,
      {
        event: 'SEND',
        code: 'InvalidHeaderChunks',
        msg: `Invalid chunk values sent in mex-Chunk-Range header${why ? `: ${why}` : ''}`,
      },
      messageId,
    ),
  chunksOutOfOrder: (messageId: string, missing: readonly number[]) =>
    meshError(
      417,
      {
        event: 'SEND',
        code: 'InvalidHeaderChunks',
        msg: `The final chunk must be uploaded last; chunk(s) ${missing.join(',')} have not been uploaded`,
      },
      messageId,
    ),
  contentEncodingChanged: (messageId: string) =>
    meshError(
      417,
      { event: 'SEND', code: 'InvalidHeaderChunks', msg: 'cannot change content encoding' },
      messageId,
    ),
  unregisteredRecipient: () =>
    meshError(417, { event: 'SEND', code: MESH_CODES.unregisteredRecipient, msg: 'Unregistered to address' }),
  workflowNotRegistered: (who: 'sender' | 'recipient') =>
    meshError(417, {
      event: 'SEND',
      code: MESH_CODES.workflowNotRegistered,
      msg: `Workflow ID not registered for mailbox (${who})`,
    }),
  missingDataFile: (messageId?: string) =>
    meshError(
      417,
      { event: 'COLLECT', code: MESH_CODES.dataFileMissing, msg: 'Data file is missing or inaccessible.' },
      messageId,
    ),
  payloadTooLarge: (limit: number, messageId?: string) =>
    meshError(
      413,
      {
        event: 'SEND',
        code: 'PayloadTooLarge',
        msg: `Request body exceeds the ${limit} byte limit per request`,
      },
      messageId,
      // The rest of the body is not wanted; closing saves reading up to 100 MB just to discard it.
      { connection: 'close' },
    ),
  chunkNotAcceptable: (messageId: string, total: number) =>
    meshError(
      406,
      {
        event: 'SEND',
        code: 'InvalidHeaderChunks',
        msg: `Chunk number is greater than the ${total} chunks declared`,
      },
      messageId,
    ),
  locked: (messageId: string) =>
    meshError(423, { event: 'SEND', code: '', msg: 'Message upload is already complete' }, messageId),
  multipleLocalIdMatches: () =>
    meshError(300, { event: 'TRACKING', code: '', msg: 'More than one message has this local id' }),
  internal: () =>
    new MeshHttpError(500, { message: 'An internal error occurred.\n\nPlease contact support.' }),
  methodNotAllowed: (allow: readonly string[]) =>
    meshError(405, { event: '', code: '', msg: 'Method Not Allowed' }, undefined, {
      allow: allow.join(', '),
    }),
} as const;
