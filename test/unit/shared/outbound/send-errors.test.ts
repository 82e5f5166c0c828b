import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MeshAuthenticationError,
  MeshConfigurationError,
  MeshNotFoundError,
  MeshOutcomeUnknownError,
  MeshRejectedError,
  MeshRetriesExhaustedError,
} from '../../../../shared/mesh/index.js';
import { failureText, finalFailure, isClientError } from '../../../../shared/outbound/send-errors.js';

function s3Error(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

describe('which send failures are final', () => {
  test('rejects what no retry could send, and fails what MESH refused, with its code', () => {
    assert.deepEqual(finalFailure(new MeshConfigurationError('chunk size too small')), {
      status: 'rejected',
      text: 'chunk size too small',
    });
    for (const refused of [
      new MeshRejectedError('refused', { code: '12', description: 'Unregistered to address' }),
      new MeshAuthenticationError('refused', { code: '12', description: 'Unregistered to address' }),
      new MeshNotFoundError('refused', { code: '12', description: 'Unregistered to address' }),
    ]) {
      assert.deepEqual(finalFailure(refused), {
        status: 'failed',
        code: '12',
        text: 'Unregistered to address',
      });
    }
  });

  test('fails a transfer whose object version was deleted or replaced while it was sent', () => {
    for (const name of ['NoSuchKey', 'NotFound', 'NoSuchVersion']) {
      assert.equal(
        finalFailure(s3Error(name, 404))?.text,
        'the S3 object was deleted before it could be sent',
      );
    }
    assert.match(
      finalFailure(s3Error('PreconditionFailed', 412))?.text ?? '',
      /replaced while it was being sent/,
    );
  });

  test('leaves to the queue what may pass: an unknown outcome, exhausted retries, a 503', () => {
    assert.equal(finalFailure(new MeshOutcomeUnknownError('reply lost')), undefined);
    assert.equal(finalFailure(new MeshRetriesExhaustedError('503 four times')), undefined);
    assert.equal(finalFailure(s3Error('ServiceUnavailable', 503)), undefined);
    // A bare 403 may be a missing object or a refused key: the policy asks S3 which, not this table.
    assert.equal(finalFailure(s3Error('AccessDenied', 403)), undefined);
  });

  test('counts S3 refusals but not throttling or timeouts as answers a retry will not change', () => {
    assert.equal(isClientError(s3Error('AccessDenied', 403)), true);
    assert.equal(isClientError(s3Error('SlowDown', 429)), false);
    assert.equal(isClientError(s3Error('RequestTimeout', 408)), false);
    assert.equal(isClientError(s3Error('InternalError', 500)), false);
    assert.equal(isClientError(new Error('socket hang up')), false);
  });

  test('records MESH failures in their own words and others with their name', () => {
    assert.equal(failureText(new MeshRejectedError('MESH refused chunk 2')), 'MESH refused chunk 2');
    assert.equal(failureText(s3Error('SlowDown', 429)), 'SlowDown: SlowDown');
    assert.equal(failureText('plain string'), 'plain string');
  });
});
