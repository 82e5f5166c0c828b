import { MeshProtocolError } from '../mesh/index.js';

/** A message that can never be stored as it is (corrupt gzip, a decompression bomb, gone from MESH). */
export class PermanentDownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentDownloadError';
  }
}

/** Corrupt gzip or a decompression bomb will fail the same way every time. */
export function classifyStreamError(error: unknown, messageId: string, chunk: number): unknown {
  const code = (error as { code?: unknown }).code;
  if (error instanceof MeshProtocolError || code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
    const reason = error instanceof Error ? error.message : String(error);
    return new PermanentDownloadError(`chunk ${chunk} of ${messageId} cannot be decoded: ${reason}`, {
      cause: error,
    });
  }
  return error;
}
