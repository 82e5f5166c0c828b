import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acceptsGzip, negotiateApiVersion } from '../../../local/mesh-server/negotiation.js';

describe('Accept negotiation', () => {
  test('reads the version from application/vnd.mesh.v2+json', () => {
    assert.deepEqual(negotiateApiVersion('application/vnd.mesh.v2+json'), { kind: 'version', version: 2 });
    assert.deepEqual(negotiateApiVersion('*/*, application/vnd.mesh.v2+json'), {
      kind: 'version',
      version: 2,
    });
  });

  test('means version 1 when no range mentions vnd.mesh', () => {
    assert.deepEqual(negotiateApiVersion(undefined), { kind: 'version', version: 1 });
    assert.deepEqual(negotiateApiVersion('application/json'), { kind: 'version', version: 1 });
  });

  test('calls a vnd.mesh range of the wrong shape malformed', () => {
    assert.deepEqual(negotiateApiVersion('application/vnd.mesh.v2'), { kind: 'malformed' });
    assert.deepEqual(negotiateApiVersion('application/vnd.mesh.vX+json'), { kind: 'malformed' });
  });
});

describe('Accept-Encoding gzip', () => {
  test('is accepted when listed with a non-zero quality or as *', () => {
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('br, gzip;q=0.5'), true);
    assert.equal(acceptsGzip('*'), true);
  });

  test('is refused when absent or at quality zero', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip('gzip;q=0'), false);
  });
});
