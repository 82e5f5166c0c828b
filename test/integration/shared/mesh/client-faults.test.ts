import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MeshError } from '../../../../shared/mesh/index.js';
import {
  MeshAuthenticationError,
  MeshClient,
  MeshConfigurationError,
  MeshNetworkError,
  MeshNotFoundError,
  MeshOutcomeUnknownError,
  MeshRejectedError,
  MeshRetriesExhaustedError,
  MeshTlsError,
  bufferByteSource,
  sendChunked,
  type RetryEvent,
} from '../../../../shared/mesh/index.js';
import type { FaultRule } from '../../../../local/mesh-server/index.js';
import { encryptPrivateKey, generateCa, issueClientCert } from '../../../../local/pki.js';
import { startMeshHarness, type MeshHarness } from '../../../harness/mesh.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const CHUNK = 1024 * 1024;

/** Asserts the error's class and, when given, its fields; the message must never be a bare "other side closed". */
function expectError<T extends MeshError>(
  type: abstract new (...args: never[]) => T,
  fields: Partial<
    Pick<MeshError, 'status' | 'code' | 'event' | 'description' | 'messageId' | 'operation'>
  > = {},
) {
  return (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    for (const [key, value] of Object.entries(fields)) {
      assert.equal((error as unknown as Record<string, unknown>)[key], value, `error.${key}`);
    }
    assert.doesNotMatch(error.message, /^other side closed$/);
    return true;
  };
}

describe('MESH client under injected faults', () => {
  let mesh: MeshHarness;
  const retries: RetryEvent[] = [];
  const onRetry = (event: RetryEvent) => void retries.push(event);

  before(async () => {
    mesh = await startMeshHarness();
  });
  after(async () => {
    await mesh.close();
  });
  beforeEach(async () => {
    await mesh.server.admin.reset();
    retries.length = 0;
  });

  const faults = (...rules: FaultRule[]) => mesh.server.admin.setFaults(rules);
  const fired = async () => (await mesh.server.admin.listFaults()).map((rule) => rule.fired);
  const stats = () => mesh.server.admin.stats();

  /** A 3-chunk gzip message of incompressible bytes from X26ABC1 to X26ABC2. */
  async function sendThreeChunks(client = mesh.client('X26ABC1', { onRetry })) {
    const payload = randomBytes(3 * CHUNK - 100);
    const result = await sendChunked(
      client,
      bufferByteSource(payload),
      { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', localId: `three-${randomBytes(4).toString('hex')}` },
      { chunkBytes: CHUNK, allowSmallChunks: true },
    );
    assert.equal(result.status, 'complete');
    return { payload, messageId: result.messageId };
  }

  describe('retryable statuses on idempotent operations', () => {
    test('waits for the Retry-After MESH asks for before retrying', async () => {
      await faults({ endpoint: 'inbox', action: { type: 'status', status: 503, retryAfterSeconds: 1 } });
      const recipient = mesh.client('X26ABC2', { onRetry });

      const started = performance.now();
      const page = await recipient.listInbox();
      const elapsed = performance.now() - started;

      assert.deepEqual(page.messageIds, []);
      assert.equal(retries.length, 1);
      assert.equal(retries[0]?.delayMs, 1000);
      assert.equal(retries[0]?.reason, 'HTTP 503');
      assert.ok(elapsed >= 950, `retried after ${elapsed} ms`);
    });

    for (const status of [429, 500, 503]) {
      test(`survives HTTP ${status} with Retry-After on chunk upload, tracking, inbox, download and acknowledge`, async () => {
        const twice = (endpoint: FaultRule['endpoint']): FaultRule => ({
          endpoint,
          times: 2,
          action: { type: 'status', status, retryAfterSeconds: 0 },
        });
        await faults(twice('chunk'), twice('tracking'), twice('inbox'), twice('download'), twice('ack'));
        const sender = mesh.client('X26ABC1', { onRetry });
        const recipient = mesh.client('X26ABC2', { onRetry });

        const { payload, messageId } = await sendThreeChunks(sender);
        const tracking = await sender.track(messageId);
        const page = await recipient.listInbox();
        const { body } = await recipient.download(messageId);
        const received = await buffer(body);
        await recipient.acknowledge(messageId);

        assert.equal(tracking.status, 'accepted');
        assert.deepEqual(page.messageIds, [messageId]);
        assert.equal(sha256(received), sha256(payload));
        assert.deepEqual(await fired(), [2, 2, 2, 2, 2]);
        assert.equal(retries.length, 10);
        assert.ok(retries.every((r) => r.reason === `HTTP ${status}`));
        assert.equal((await stats()).counters.acknowledgements, 1);
      });
    }

    test('does not wait out a Retry-After longer than maxRetryAfterMs: MeshRetriesExhaustedError at once', async () => {
      await faults({ endpoint: 'inbox', action: { type: 'status', status: 429, retryAfterSeconds: 30 } });
      const recipient = mesh.client('X26ABC2', { onRetry, retry: { maxRetryAfterMs: 1000 } });

      const started = performance.now();
      await assert.rejects(
        recipient.listInbox(),
        expectError(MeshRetriesExhaustedError, { status: 429, operation: 'inbox' }),
      );
      const elapsed = performance.now() - started;

      assert.ok(elapsed < 1000, `gave up after ${elapsed} ms`);
      assert.equal(retries.length, 0);
      assert.deepEqual(await fired(), [1]);
    });

    test('gives up with MeshRetriesExhaustedError when a 503 lasts through every attempt', async () => {
      await faults({ endpoint: 'tracking', times: 'always', action: { type: 'status', status: 503 } });
      const sender = mesh.client('X26ABC1', { onRetry, retry: { maxAttempts: 3, baseDelayMs: 1 } });

      await assert.rejects(
        sender.track('20250101000000000000_ABCDEF'),
        expectError(MeshRetriesExhaustedError, { status: 503, operation: 'tracking' }),
      );

      assert.equal(retries.length, 2);
      assert.deepEqual(await fired(), [3]);
    });
  });

  describe('the first POST /outbox', () => {
    test('is retried after 429 and 425, which MESH answers before doing any work, and sends one message', async () => {
      await faults(
        { endpoint: 'send', action: { type: 'status', status: 429, retryAfterSeconds: 0 } },
        { endpoint: 'send', action: { type: 'status', status: 425, retryAfterSeconds: 0 } },
      );
      const sender = mesh.client('X26ABC1', { onRetry });

      const messageId = await sender.sendMessage(
        { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' },
        { body: 'retried send' },
      );

      assert.deepEqual(await fired(), [1, 1]);
      assert.deepEqual(
        retries.map((r) => r.reason),
        ['HTTP 429', 'HTTP 425'],
      );
      assert.deepEqual((await mesh.client('X26ABC2').listInbox()).messageIds, [messageId]);
      assert.equal((await stats()).counters.sendsAccepted, 1);
    });

    for (const status of [500, 502, 503, 504]) {
      test(`is not retried after HTTP ${status}: MeshOutcomeUnknownError, then findByLocalId tells what happened`, async () => {
        await faults({ endpoint: 'send', action: { type: 'status', status } });
        const sender = mesh.client('X26ABC1', { onRetry });

        await assert.rejects(
          sender.sendMessage(
            { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', localId: `status-${status}` },
            { body: 'x' },
          ),
          expectError(MeshOutcomeUnknownError, { status, operation: 'send' }),
        );

        assert.equal(retries.length, 0);
        assert.deepEqual(await fired(), [1]);
        // An injected status answers without doing the work, so the lookup shows it is safe to send again.
        assert.deepEqual(await sender.findByLocalId(`status-${status}`), { kind: 'none', proven: true });
      });
    }

    for (const afterBytes of [5, 10_000]) {
      const when = afterBytes === 5 ? 'after the headers' : 'before the headers';
      test(`reset ${when} is MeshOutcomeUnknownError, and findByLocalId finds the message MESH created`, async () => {
        await faults({ endpoint: 'send', action: { type: 'reset', phase: 'response', afterBytes } });
        const sender = mesh.client('X26ABC1', { onRetry });
        const localId = `reset-${afterBytes}`;

        await assert.rejects(
          sender.sendMessage(
            { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', localId },
            { body: 'lost answer' },
          ),
          expectError(MeshOutcomeUnknownError, { operation: 'send' }),
        );
        const found = await sender.findByLocalId(localId);

        assert.equal(retries.length, 0);
        assert.equal(found.kind, 'found');
        assert.equal(found.kind === 'found' && found.tracking.status, 'accepted');
        assert.deepEqual((await mesh.client('X26ABC2').listInbox()).messageIds, [
          found.kind === 'found' ? found.tracking.messageId : '',
        ]);
        assert.equal((await stats()).counters.sendsAccepted, 1);
      });
    }

    test('a request-phase reset is MeshOutcomeUnknownError without a retry, although nothing was created', async () => {
      // The client cannot tell a connection dropped while it sent from one dropped after MESH acted on the body.
      await faults({ endpoint: 'send', action: { type: 'reset', phase: 'request', afterBytes: 1000 } });
      const sender = mesh.client('X26ABC1', { onRetry });

      await assert.rejects(
        sender.sendMessage(
          { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', localId: 'request-reset' },
          { body: randomBytes(256 * 1024) },
        ),
        expectError(MeshOutcomeUnknownError, { operation: 'send' }),
      );

      assert.equal(retries.length, 0);
      assert.deepEqual(await fired(), [1]);
      assert.deepEqual(await sender.findByLocalId('request-reset'), { kind: 'none', proven: true });
      assert.equal((await stats()).counters.sendsAccepted, 0);
    });
  });

  describe('connection resets', () => {
    for (const acceptGzip of [true, false]) {
      test(`download resumes chunks broken part-way through the body (${acceptGzip ? 'gzip' : 'identity'})`, async () => {
        const { payload, messageId } = await sendThreeChunks();
        await faults(
          {
            endpoint: 'download',
            chunk: 1,
            action: { type: 'reset', phase: 'response', afterBytes: 200_000 },
          },
          { endpoint: 'download', chunk: 2, action: { type: 'reset', phase: 'response', afterBytes: 1 } },
          {
            endpoint: 'download',
            chunk: 3,
            action: { type: 'reset', phase: 'response', afterBytes: 700_000 },
          },
        );

        const { body } = await mesh.client('X26ABC2').download(messageId, { acceptGzip });
        const received = await buffer(body);

        assert.equal(received.length, payload.length);
        assert.equal(sha256(received), sha256(payload));
        assert.deepEqual(await fired(), [1, 1, 1]);
      });
    }

    test('a chunk upload reset part-way through its body is sent again', async () => {
      await faults({
        endpoint: 'chunk',
        chunk: 2,
        action: { type: 'reset', phase: 'request', afterBytes: 64 * 1024 },
      });

      const { payload, messageId } = await sendThreeChunks();
      const { body } = await mesh.client('X26ABC2').download(messageId);

      assert.equal(sha256(await buffer(body)), sha256(payload));
      assert.deepEqual(await fired(), [1]);
      assert.equal(retries.length, 1);
      assert.equal(retries[0]?.operation, 'chunk');
    });

    test('a lost answer to the final chunk upload does not turn into a 423 failure', async () => {
      // MESH stores the final chunk and finalises the message; the retry then meets "upload already complete".
      await faults({
        endpoint: 'chunk',
        chunk: 3,
        action: { type: 'reset', phase: 'response', afterBytes: 0 },
      });

      const { payload, messageId } = await sendThreeChunks();
      const { body } = await mesh.client('X26ABC2').download(messageId);

      assert.equal(sha256(await buffer(body)), sha256(payload));
      assert.deepEqual(await fired(), [1]);
      assert.equal((await stats()).counters.messagesFinalised, 1);
    });

    test('resuming at a final chunk MESH already stored completes, but a 423 on an unfinished message does not', async () => {
      const payload = randomBytes(2 * CHUNK);
      const headers = { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' };
      const options = { chunkBytes: CHUNK, allowSmallChunks: true };
      const sender = mesh.client('X26ABC1');
      const done = await sendChunked(sender, bufferByteSource(payload), headers, options);

      // A send that crashed after MESH stored its final chunk but before the checkpoint is resumed there.
      const resumed = await sendChunked(sender, bufferByteSource(payload), headers, {
        ...options,
        resume: { messageId: done.messageId, nextChunk: 2 },
      });
      // A 423 for a message that is not accepted (here: expired) is still a failure.
      await mesh.server.admin.expireMessage(done.messageId);

      assert.equal(resumed.status, 'complete');
      assert.equal(resumed.messageId, done.messageId);
      await assert.rejects(
        sender.uploadChunk(done.messageId, 2, 2, { body: Buffer.from('late') }),
        expectError(MeshRejectedError, { status: 423, messageId: done.messageId }),
      );
    });

    test('an inbox listing whose body breaks is fetched again', async () => {
      const sender = mesh.client('X26ABC1');
      const sent = await sender.sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' }, { body: 'x' });
      await faults({ endpoint: 'inbox', action: { type: 'reset', phase: 'response', afterBytes: 10 } });

      const page = await mesh.client('X26ABC2', { onRetry }).listInbox();

      assert.deepEqual(page.messageIds, [sent]);
      assert.deepEqual(await fired(), [1]);
      assert.equal(retries.length, 1);
    });

    test('two resets in a row on an idempotent request are retried, not mistaken for a TLS refusal', async () => {
      const sender = mesh.client('X26ABC1');
      const messageId = await sender.sendMessage(
        { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' },
        { body: 'x' },
      );
      await faults({
        endpoint: 'ack',
        times: 2,
        action: { type: 'reset', phase: 'response', afterBytes: 0 },
      });

      await mesh.client('X26ABC2', { onRetry }).acknowledge(messageId);

      assert.deepEqual(await fired(), [2]);
      assert.equal(retries.length, 2);
      assert.equal((await stats()).counters.acknowledgements, 1);
    });
  });

  describe('timeouts', () => {
    // undici checks the headers timeout on a coarse timer (about a second), so the latencies here are seconds.
    test('MESH slower than the headers timeout gives a typed network error, not a hang', async () => {
      await faults({ endpoint: 'inbox', times: 'always', action: { type: 'latency', ms: 4000 } });
      const recipient = mesh.client('X26ABC2', {
        onRetry,
        timeouts: { headersMs: 200 },
        retry: { maxAttempts: 2, baseDelayMs: 1 },
      });

      const started = performance.now();
      await assert.rejects(recipient.listInbox(), (error: unknown) => {
        assert.ok(error instanceof MeshNetworkError, String(error));
        assert.match(error.message, /UND_ERR_HEADERS_TIMEOUT, timed out waiting for the response headers/);
        return true;
      });
      const elapsed = performance.now() - started;

      assert.ok(elapsed < 4000, `gave up after ${elapsed} ms`);
      assert.equal(retries.length, 1);
      assert.deepEqual(await fired(), [2]);
    });

    test('a send slower than the headers timeout is an unknown outcome that findByLocalId settles', async () => {
      await faults({ endpoint: 'send', action: { type: 'latency', ms: 2000 } });
      const sender = mesh.client('X26ABC1', { onRetry, timeouts: { headersMs: 100 } });

      const started = performance.now();
      await assert.rejects(
        sender.sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', localId: 'slow' }, { body: 'x' }),
        expectError(MeshOutcomeUnknownError, { operation: 'send' }),
      );
      const elapsed = performance.now() - started;
      await sleep(2200 - elapsed);
      const found = await sender.findByLocalId('slow');

      assert.ok(elapsed < 2000, `gave up after ${elapsed} ms`);
      assert.equal(retries.length, 0);
      // Whether MESH went on to create the message is its business; the lookup answers for certain either way.
      assert.equal(found.kind === 'found', (await stats()).counters.sendsAccepted === 1);
    });
  });

  describe('permanent failures', () => {
    test('403 is MeshAuthenticationError and is not retried', async () => {
      await faults({ endpoint: 'handshake', action: { type: 'status', status: 403 } });

      await assert.rejects(
        mesh.client('X26ABC1', { onRetry }).handshake(),
        expectError(MeshAuthenticationError, { status: 403, operation: 'handshake' }),
      );
      assert.equal(retries.length, 0);
    });

    test('a wrong password is MeshAuthenticationError carrying MESH description', async () => {
      await assert.rejects(
        mesh.client('X26ABC1', { password: 'wrong', onRetry }).listInbox(),
        expectError(MeshAuthenticationError, { status: 403, description: 'Invalid Authentication Token' }),
      );
      assert.equal(retries.length, 0);
    });

    test('an unknown message is MeshNotFoundError 404 with code 20, event RECEIVE and the message id', async () => {
      const missing = '20250101000000000000_ABCDEF';

      await assert.rejects(
        mesh.client('X26ABC2').download(missing),
        expectError(MeshNotFoundError, { status: 404, code: '20', event: 'RECEIVE', messageId: missing }),
      );
    });

    test('an acknowledged message is MeshNotFoundError 410 with its message id', async () => {
      const messageId = await mesh
        .client('X26ABC1')
        .sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' }, { body: 'x' });
      const recipient = mesh.client('X26ABC2', { onRetry });
      await recipient.acknowledge(messageId);

      await assert.rejects(
        recipient.getMetadata(messageId),
        expectError(MeshNotFoundError, { status: 410, messageId }),
      );
      await assert.rejects(
        recipient.download(messageId),
        expectError(MeshNotFoundError, { status: 410, messageId }),
      );
      assert.equal(retries.length, 0);
    });

    test('an injected 404 and 410 are MeshNotFoundError and are not retried', async () => {
      await faults(
        { endpoint: 'tracking', action: { type: 'status', status: 404 } },
        { endpoint: 'tracking', action: { type: 'status', status: 410 } },
      );
      const sender = mesh.client('X26ABC1', { onRetry });
      const messageId = '20250101000000000000_ABCDEF';

      await assert.rejects(
        sender.track(messageId),
        expectError(MeshNotFoundError, { status: 404, messageId }),
      );
      await assert.rejects(
        sender.track(messageId),
        expectError(MeshNotFoundError, { status: 410, messageId }),
      );
      assert.equal(retries.length, 0);
    });

    test('an unregistered recipient is MeshRejectedError 417 with code 12, event SEND and a description', async () => {
      await assert.rejects(
        mesh
          .client('X26ABC1', { onRetry })
          .sendMessage({ to: 'NOSUCHBOX', workflowId: 'TEST_WORKFLOW' }, { body: 'x' }),
        (error: unknown) => {
          expectError(MeshRejectedError, { status: 417, code: '12', event: 'SEND', operation: 'send' })(
            error,
          );
          assert.ok((error as MeshRejectedError).description, 'MESH description is carried');
          assert.match((error as MeshRejectedError).message, /417.*code 12/);
          return true;
        },
      );
      assert.equal(retries.length, 0);
    });
  });

  describe('TLS', () => {
    const withCert = (
      cert: { cert: string; key: string } | undefined,
      extra: Record<string, unknown> = {},
    ) => ({
      tls: { ca: mesh.pki.ca.cert, cert: cert?.cert, key: cert?.key, ...extra },
      onRetry,
    });
    const refusedCertificate = (error: unknown) => {
      assert.ok(error instanceof MeshTlsError, `expected MeshTlsError, got ${String(error)}`);
      assert.match(error.message, /client certificate/);
      return true;
    };

    test('an expired client certificate is MeshTlsError, found within two attempts', async () => {
      const expired = await issueClientCert(mesh.pki.ca, 'X26ABC1', {
        notBefore: new Date(Date.now() - 10 * DAY_MS),
        notAfter: new Date(Date.now() - DAY_MS),
      });

      await assert.rejects(mesh.client('X26ABC1', withCert(expired)).handshake(), refusedCertificate);
      assert.ok(retries.length <= 1, `${retries.length} retries`);
    });

    test('a client certificate from an unknown CA is MeshTlsError', async () => {
      const stranger = await issueClientCert(await generateCa('Unknown CA'), 'X26ABC1');

      await assert.rejects(mesh.client('X26ABC1', withCert(stranger)).listInbox(), refusedCertificate);
    });

    test('no client certificate is MeshTlsError that says none was configured', async () => {
      await assert.rejects(mesh.client('X26ABC1', withCert(undefined)).handshake(), (error: unknown) => {
        refusedCertificate(error);
        assert.match((error as Error).message, /no client certificate/i);
        return true;
      });
    });

    test('a refused certificate on send is MeshTlsError, not an unknown outcome', async () => {
      const stranger = await issueClientCert(await generateCa('Unknown CA'), 'X26ABC1');

      await assert.rejects(
        mesh
          .client('X26ABC1', withCert(stranger))
          .sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' }, { body: 'x' }),
        refusedCertificate,
      );
      assert.equal((await stats()).counters.sendsAccepted, 0);
    });

    test('a valid certificate for another mailbox is MeshAuthenticationError 403', async () => {
      await assert.rejects(
        mesh.client('X26ABC1', withCert(mesh.pki.clients['X26ABC2'])).handshake(),
        expectError(MeshAuthenticationError, { status: 403 }),
      );
    });

    test('an encrypted client key works with the right passphrase', async () => {
      const own = mesh.pki.clients['X26ABC1']!;
      const encrypted = { cert: own.cert, key: encryptPrivateKey(own.key, 'correct horse') };

      await mesh.client('X26ABC1', withCert(encrypted, { passphrase: 'correct horse' })).handshake();
    });

    for (const passphrase of ['wrong', undefined]) {
      test(`an encrypted client key with ${passphrase ? 'a wrong' : 'no'} passphrase is a clear key error`, async () => {
        const own = mesh.pki.clients['X26ABC1']!;
        const encrypted = { cert: own.cert, key: encryptPrivateKey(own.key, 'correct horse') };

        await assert.rejects(
          async () => mesh.client('X26ABC1', withCert(encrypted, { passphrase })).handshake(),
          (error: unknown) => {
            assert.ok(
              error instanceof MeshTlsError || error instanceof MeshConfigurationError,
              `got ${String(error)}`,
            );
            assert.match(error.message, /passphrase/);
            return true;
          },
        );
        assert.equal(retries.length, 0);
      });
    }

    test('plain http to a host that is not loopback is refused before any request', () => {
      const options = { mailboxId: 'X26ABC1', password: 'password', sharedSecret: 'TestKey' };

      assert.throws(
        () => new MeshClient({ ...options, url: 'http://mesh.example.org' }),
        MeshConfigurationError,
      );
      assert.throws(
        () => new MeshClient({ ...options, url: 'http://10.1.2.3:8700' }),
        MeshConfigurationError,
      );
      assert.throws(
        () => new MeshClient({ ...options, url: 'http://127.0.0.1.example.org' }),
        MeshConfigurationError,
      );
      assert.equal(new MeshClient({ ...options, url: 'http://127.0.0.1:8700' }).baseUrl.protocol, 'http:');
    });
  });
});
