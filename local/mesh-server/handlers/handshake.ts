import { H } from '../../../shared/mesh/protocol.js';
import { headerText } from '../http-input.js';
import { missingField, validationError } from '../mesh-errors.js';
import { emptyReply, type Reply } from '../reply.js';
import type { MeshRequest } from './context.js';

const REQUIRED = [H.clientVersion, H.osName, H.osVersion];

/** "Validate a mailbox": v2 answers 200 with no body once the client identifies itself. */
export async function handshake({ req }: MeshRequest): Promise<Reply> {
  const missing = REQUIRED.filter((name) => !headerText(req, name));
  if (missing.length > 0) throw validationError(missing.map((name) => missingField('header', name)));
  return emptyReply(200);
}
