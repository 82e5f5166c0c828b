import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Context } from 'aws-lambda';
import { createHealthFunction } from '../../../functions/health/container.js';
import { issueClientCert } from '../../../local/pki.js';
import { METRICS } from '../../../shared/observability/metric-names.js';
import type { MeshCredentials } from '../../../shared/secrets/mesh-credentials.js';
import { PASSWORD, SHARED_SECRET } from '../../harness/mesh.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

const MAILBOXES = ['X26ABC1', 'X26ABC2'];
const DAY_MS = 24 * 60 * 60 * 1000;
const WRONG_PASSWORD = 'not-the-mailbox-password';

interface Recorded {
  readonly mailboxId: string;
  readonly name: string;
  readonly value: number;
}

function lambdaContext(remainingMs = 30_000): Context {
  return { getRemainingTimeInMillis: () => remainingMs, awsRequestId: 'test' } as Context;
}

describe('health function: daily MESH handshake and certificate expiry', () => {
  let h: PipelineHarness;
  let recorded: Recorded[];

  before(async () => {
    h = await startPipelineHarness({ mailboxes: MAILBOXES });
  });
  after(async () => {
    await h.close();
  });
  beforeEach(() => {
    recorded = [];
    h.logs.length = 0;
  });
  afterEach(() => {
    for (const id of MAILBOXES) putCredentials(id, {});
  });

  function putCredentials(mailboxId: string, changes: Partial<MeshCredentials>): void {
    const credentials: MeshCredentials = {
      password: PASSWORD,
      sharedSecret: SHARED_SECRET,
      clientCert: h.mesh.pki.clients[mailboxId]!.cert,
      clientKey: h.mesh.pki.clients[mailboxId]!.key,
      caCert: h.mesh.pki.ca.cert,
      ...changes,
    };
    h.aws.secrets.put(`mesh/${mailboxId}`, JSON.stringify(credentials));
  }

  async function runHealth() {
    const fn = createHealthFunction(h.env(), {
      clients: h.clients,
      log: h.log,
      metrics: {
        add: (name, _unit, value, mailboxId) => void recorded.push({ mailboxId: mailboxId!, name, value }),
      },
      meshClientOptions: { retry: { baseDelayMs: 5, maxDelayMs: 50 } },
    });
    try {
      return await fn.handler({}, lambdaContext());
    } finally {
      await fn.close();
    }
  }

  const metric = (mailboxId: string, name: string) =>
    recorded.filter((r) => r.mailboxId === mailboxId && r.name === name).map((r) => r.value);

  test('passes for every mailbox and publishes each certificate’s days to expiry', async () => {
    const report = await runHealth();

    assert.deepEqual(
      report.results.map((r) => [r.mailboxId, r.ok]),
      [
        ['X26ABC1', true],
        ['X26ABC2', true],
      ],
    );
    for (const id of MAILBOXES) {
      assert.deepEqual(metric(id, METRICS.healthCheckSucceeded), [1]);
      assert.deepEqual(metric(id, METRICS.healthCheckFailed), [0]);
      const [days] = metric(id, METRICS.certificateDaysToExpiry);
      // The test PKI issues certificates valid for 365 days.
      assert.ok(days === 364 || days === 365, `days to expiry ${days}`);
    }
    assert.equal(h.logs.filter((l) => l.message === 'MESH health check passed').length, 2);
  });

  test('fails the mailbox whose password is wrong, with a clear log that holds no secret', async () => {
    putCredentials('X26ABC1', { password: WRONG_PASSWORD });

    const report = await runHealth();

    assert.deepEqual(metric('X26ABC1', METRICS.healthCheckFailed), [1]);
    assert.deepEqual(metric('X26ABC1', METRICS.healthCheckSucceeded), [0]);
    assert.deepEqual(metric('X26ABC2', METRICS.healthCheckFailed), [0]);
    assert.deepEqual(
      report.results.map((r) => (r.ok ? [r.mailboxId, 'ok'] : [r.mailboxId, r.failure])),
      [
        ['X26ABC1', 'authentication'],
        ['X26ABC2', 'ok'],
      ],
    );
    const failure = h.logs.find((l) => l.message === 'MESH health check failed');
    assert.equal(failure?.level, 'ERROR');
    assert.equal(failure?.mailboxId, 'X26ABC1');
    assert.match(String(failure?.hint), /check password and sharedSecret/);
    assert.equal((failure?.error as { name?: string } | undefined)?.name, 'MeshAuthenticationError');
    const everything = JSON.stringify(h.logs);
    assert.ok(!everything.includes(WRONG_PASSWORD), 'the password is not logged');
    assert.ok(!everything.includes(SHARED_SECRET), 'the shared secret is not logged');
    assert.ok(!everything.includes('PRIVATE KEY'), 'no key is logged');
  });

  test('reports the days left on a certificate close to expiry, and warns', async () => {
    const now = Date.now();
    const nearExpiry = await issueClientCert(h.mesh.pki.ca, 'X26ABC1', {
      notBefore: new Date(now - 300 * DAY_MS),
      notAfter: new Date(now + 10 * DAY_MS + 60_000),
    });
    putCredentials('X26ABC1', { clientCert: nearExpiry.cert, clientKey: nearExpiry.key });

    await runHealth();

    assert.deepEqual(metric('X26ABC1', METRICS.certificateDaysToExpiry), [10]);
    assert.deepEqual(metric('X26ABC1', METRICS.healthCheckSucceeded), [1]);
    const warning = h.logs.find((l) => l.message.startsWith('MESH client certificate expires soon'));
    assert.equal(warning?.mailboxId, 'X26ABC1');
    assert.equal(warning?.daysToExpiry, 10);
  });

  test('reports an expired certificate as negative days and a failed TLS check', async () => {
    const now = Date.now();
    const expired = await issueClientCert(h.mesh.pki.ca, 'X26ABC1', {
      notBefore: new Date(now - 400 * DAY_MS),
      notAfter: new Date(now - 2 * DAY_MS - 60_000),
    });
    putCredentials('X26ABC1', { clientCert: expired.cert, clientKey: expired.key });

    const report = await runHealth();

    assert.deepEqual(metric('X26ABC1', METRICS.certificateDaysToExpiry), [-3]);
    assert.deepEqual(metric('X26ABC1', METRICS.healthCheckFailed), [1]);
    const result = report.results.find((r) => r.mailboxId === 'X26ABC1');
    assert.equal(result?.ok, false);
    assert.equal(result?.ok === false ? result.failure : undefined, 'tls');
    const failure = h.logs.find((l) => l.message === 'MESH health check failed');
    assert.match(String(failure?.hint), /client certificate has not expired/);
  });

  test("records each mailbox's last handshake and certificate expiry on its registry record, for the console", async () => {
    const notAfter = (id: string) => Date.parse(new X509Certificate(h.mesh.pki.clients[id]!.cert).validTo);
    const started = Date.now();
    await runHealth();
    const good = (await h.registry.get('X26ABC1'))!;
    assert.equal(good.lastHealthCheckOk, true);
    assert.ok(good.lastHealthCheckAt! >= started);
    assert.equal(good.lastHandshakeAt, good.lastHealthCheckAt);
    assert.equal(good.certificateNotAfter, notAfter('X26ABC1'));
    assert.equal(good.lastHealthFailure, undefined);

    // A failing check is recorded with its kind, and the last good handshake is kept.
    putCredentials('X26ABC1', { password: WRONG_PASSWORD });
    h.aws.secrets.put('mesh/X26ABC2', 'not the documented JSON');
    await runHealth();
    const failing = (await h.registry.get('X26ABC1'))!;
    assert.equal(failing.lastHealthCheckOk, false);
    assert.equal(failing.lastHealthFailure, 'authentication');
    assert.ok(failing.lastHealthCheckAt! > good.lastHealthCheckAt!);
    assert.equal(failing.lastHandshakeAt, good.lastHandshakeAt);
    assert.equal(failing.certificateNotAfter, notAfter('X26ABC1'));
    // A certificate that could not be read has no expiry shown, rather than the last one read.
    const unreadable = (await h.registry.get('X26ABC2'))!;
    assert.equal(unreadable.lastHealthFailure, 'credentials');
    assert.equal(unreadable.certificateNotAfter, undefined);
  });

  test('fails with a credentials hint when the secret is not the documented JSON', async () => {
    h.aws.secrets.put('mesh/X26ABC2', 'a-placeholder-nobody-replaced');

    const report = await runHealth();

    assert.deepEqual(metric('X26ABC2', METRICS.healthCheckFailed), [1]);
    assert.deepEqual(metric('X26ABC2', METRICS.certificateDaysToExpiry), []);
    const result = report.results.find((r) => r.mailboxId === 'X26ABC2');
    assert.equal(result?.ok === false ? result.failure : undefined, 'credentials');
    assert.ok(!JSON.stringify(h.logs).includes('a-placeholder-nobody-replaced'));
  });
});
