import {
  MeshAuthenticationError,
  MeshConfigurationError,
  MeshError,
  MeshNotFoundError,
  MeshRejectedError,
} from '../mesh/index.js';

/** How a transfer ends when a failure is final. */
export interface FinalFailure {
  readonly status: 'failed' | 'rejected';
  readonly code?: string;
  readonly text: string;
}

/** Failures that retrying cannot fix end the transfer; everything else is retried by the queue. */
export function finalFailure(error: unknown): FinalFailure | undefined {
  if (error instanceof MeshConfigurationError) return { status: 'rejected', text: error.message };
  if (
    error instanceof MeshRejectedError ||
    error instanceof MeshAuthenticationError ||
    error instanceof MeshNotFoundError
  ) {
    return { status: 'failed', code: error.code, text: error.description ?? error.message };
  }
  const gone = objectGone(error);
  if (gone === 'deleted')
    return { status: 'failed', text: 'the S3 object was deleted before it could be sent' };
  if (gone === 'replaced') {
    return { status: 'failed', text: 'the S3 object was replaced while it was being sent; upload it again' };
  }
  return undefined;
}

/** Whether S3's answer says the object version read is gone (deleted, or replaced under a pinned ETag). */
export function objectGone(error: unknown): 'deleted' | 'replaced' | undefined {
  const name = (error as { name?: string }).name;
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion') return 'deleted';
  if (name === 'PreconditionFailed' || httpStatusOf(error) === 412) return 'replaced';
  return undefined;
}

/**
 * S3 refused the read itself (a 403 for a version deleted from under a role without ListBucket, 404, 412): trying
 * again will not change its answer.
 */
export function isClientError(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408;
}

/** The error text a transfer's record keeps: MESH's own words, or the error's name and message. */
export function failureText(error: unknown): string {
  if (error instanceof MeshError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
