import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLoopbackHost, resolveMeshBaseUrl } from '../../../../shared/mesh/environments.js';
import { MeshConfigurationError } from '../../../../shared/mesh/errors.js';

describe('MESH environments', () => {
  test('resolves environment names to their base URLs', () => {
    assert.equal(resolveMeshBaseUrl('integration').origin, 'https://msg.intspineservices.nhs.uk');
    assert.equal(resolveMeshBaseUrl('production').origin, 'https://mesh-sync.spineservices.nhs.uk');
  });

  test('accepts an explicit https URL and drops a trailing slash', () => {
    assert.equal(resolveMeshBaseUrl('https://mesh.example.org/').href, 'https://mesh.example.org/');
  });

  test('accepts plain http only on loopback', () => {
    assert.equal(resolveMeshBaseUrl('http://127.0.0.1:8700').port, '8700');
    assert.equal(resolveMeshBaseUrl('http://[::1]:8700').hostname, '[::1]');
    assert.throws(() => resolveMeshBaseUrl('http://mesh.example.org'), MeshConfigurationError);
    assert.throws(() => resolveMeshBaseUrl('http://10.0.0.5'), MeshConfigurationError);
  });

  test('rejects names that are neither environments nor URLs', () => {
    assert.throws(() => resolveMeshBaseUrl('staging'), /neither an environment/);
  });

  test('knows which hosts are loopback', () => {
    assert.ok(isLoopbackHost('localhost'));
    assert.ok(isLoopbackHost('127.9.9.9'));
    assert.ok(!isLoopbackHost('128.0.0.1'));
    assert.ok(!isLoopbackHost('localhost.example.org'));
  });
});
