/**
 * Hostile-input corpus, credentials and TLS: a mailbox secret with the wrong password or shared secret, an expired
 * client certificate, a CA that does not sign the server, a certificate for another mailbox. Through the send
 * function a transfer must end with a clear reason (failed, or retried into the DLQ with the record saying why);
 * through a poll the run must fail loudly with a typed error that is safe to log.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { OutboundStatusEventV1 } from '../../../shared/events/outbound-status.js';
import type { MeshError } from '../../../shared/mesh/index.js';
import { MeshAuthenticationError, MeshTlsError } from '../../../shared/mesh/index.js';
import { generateCa, issueClientCert, type PemPair } from '../../../local/pki.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';
import {
  credentialsFor,
  putSecret,
  readObject,
  runPoll,
  runSend,
  takeRawBodies,
  transferIdOf,
} from './support.js';

const ADDRESS = { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' };
const DAY_MS = 86_400_000;
const WRONG_PASSWORD = 'wrong-password-7a1c';
const WRONG_SHARED_SECRET = 'wrong-shared-secret-93be';

describe('hostile credentials and TLS: clear, typed, log-safe failures', () => {
  let h: PipelineHarness;
  let expired: PemPair;
  let unknownCa: PemPair;
  before(async () => {
    h = await startPipelineHarness({ maxReceiveCount: 2, visibilityTimeoutSeconds: 0 });
    expired = await issueClientCert(h.mesh.pki.ca, 'X26ABC1', {
      notBefore: new Date(Date.now() - 30 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    unknownCa = await generateCa('Somebody Else CA');
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await h.takeMessages(h.statusQueue);
    await takeRawBodies(h, h.sendQueue.dlq!);
    for (const mailbox of ['X26ABC1', 'X26ABC2']) putSecret(h, mailbox, credentialsFor(h, mailbox));
  });

  const cases = () => ({
    'a wrong password': credentialsFor(h, 'X26ABC1', { password: WRONG_PASSWORD }),
    'a wrong shared secret': credentialsFor(h, 'X26ABC1', { sharedSecret: WRONG_SHARED_SECRET }),
    'a certificate issued to another mailbox': credentialsFor(h, 'X26ABC1', {
      clientCert: h.mesh.pki.clients['X26ABC2']!.cert,
      clientKey: h.mesh.pki.clients['X26ABC2']!.key,
    }),
    'an expired client certificate': credentialsFor(h, 'X26ABC1', {
      clientCert: expired.cert,
      clientKey: expired.key,
    }),
    'a CA that did not sign the server certificate': credentialsFor(h, 'X26ABC1', { caCert: unknownCa.cert }),
  });

  /** Nothing secret may be in what a log or record shows. */
  function assertNoSecrets(text: string): void {
    for (const secret of [WRONG_PASSWORD, WRONG_SHARED_SECRET, 'PRIVATE KEY', 'NHSMESH ']) {
      assert.ok(!text.includes(secret), `"${secret}" must not appear in: ${text.slice(0, 300)}`);
    }
  }

  async function sendOne(key: string) {
    const put = await h.putObject(key, 'a,b\n', ADDRESS);
    const before = await readObject(h, h.outboundBucket, key);
    const from = h.logs.length;
    await runSend(h);
    const transferId = transferIdOf(h, key, 4, put);
    return {
      transferId,
      record: await h.transfers.get(transferId),
      events: await h.takeMessages<OutboundStatusEventV1>(h.statusQueue),
      deadLetters: await takeRawBodies(h, h.sendQueue.dlq!),
      logs: h.logs.slice(from),
      meshSends: (await h.mesh.server.admin.stats()).counters.sendsAccepted,
      untouched: (await readObject(h, h.outboundBucket, key)).eTag === before.eTag,
    };
  }

  describe('through the send function', () => {
    test('a wrong password ends the transfer failed, saying MESH refused the token', async () => {
      putSecret(h, 'X26ABC1', cases()['a wrong password']);

      const outcome = await sendOne('outbound/X26ABC1/wrong-password.csv');

      assert.equal(outcome.record?.status, 'failed');
      assert.equal(outcome.record?.errorText, 'Invalid Authentication Token');
      assert.equal(outcome.events.at(-1)?.status, 'failed');
      assert.equal(outcome.events.at(-1)?.error?.text, 'Invalid Authentication Token');
      assert.equal(outcome.meshSends, 0);
      assert.ok(outcome.untouched);
      assert.deepEqual(outcome.deadLetters, [], 'a final state, not a retry loop');
      const logged = outcome.logs.find((l) => l.message === 'transfer failed');
      assert.equal(logged?.transferId, outcome.transferId);
      assert.equal(logged?.mailbox, 'X26ABC1');
      assertNoSecrets(JSON.stringify(outcome.logs) + JSON.stringify(outcome.record));
    });

    test('a wrong shared secret ends the transfer failed, saying MESH refused the token', async () => {
      putSecret(h, 'X26ABC1', cases()['a wrong shared secret']);

      const outcome = await sendOne('outbound/X26ABC1/wrong-secret.csv');

      assert.equal(outcome.record?.status, 'failed');
      assert.equal(outcome.record?.errorText, 'Invalid Authentication Token');
      assert.equal(outcome.events.at(-1)?.status, 'failed');
      assert.equal(outcome.meshSends, 0);
      assert.ok(outcome.untouched);
      assertNoSecrets(JSON.stringify(outcome.logs) + JSON.stringify(outcome.record));
    });

    test('a certificate for another mailbox ends the transfer failed, saying so', async () => {
      putSecret(h, 'X26ABC1', cases()['a certificate issued to another mailbox']);

      const outcome = await sendOne('outbound/X26ABC1/other-cert.csv');

      assert.equal(outcome.record?.status, 'failed');
      assert.equal(outcome.record?.errorText, 'Client certificate is not issued to this mailbox');
      assert.equal(outcome.events.at(-1)?.error?.text, 'Client certificate is not issued to this mailbox');
      assert.equal(outcome.meshSends, 0);
      assert.ok(outcome.untouched);
    });

    test('an expired client certificate is retried into the DLQ, the record naming the refused certificate', async () => {
      putSecret(h, 'X26ABC1', cases()['an expired client certificate']);

      const outcome = await sendOne('outbound/X26ABC1/expired.csv');

      assert.equal(outcome.record?.status, 'stalled', 'not final: a fixed certificate and a redrive send it');
      assert.match(outcome.record?.errorText ?? '', /client certificate \(expired/);
      assert.equal(outcome.deadLetters.length, 1);
      assert.equal(outcome.meshSends, 0);
      assert.ok(outcome.untouched);
      const warnings = outcome.logs.filter(
        (l) => l.message === 'transfer hit a transient failure; it will be retried',
      );
      const stalled = outcome.logs.filter((l) => l.message.startsWith('transfer stalled'));
      assert.equal(warnings.length, 1, 'one per receive before the last');
      assert.equal(stalled.length, 1, 'the last receive says the transfer is going to the DLQ');
      assert.equal(warnings[0]?.transferId, outcome.transferId);
      assert.equal(outcome.events.at(-1)?.status, 'stalled');
      assertNoSecrets(JSON.stringify(outcome.logs) + JSON.stringify(outcome.record));
    });

    test('a server certificate from an unknown CA is retried into the DLQ, the record naming the CA problem', async () => {
      putSecret(h, 'X26ABC1', cases()['a CA that did not sign the server certificate']);

      const outcome = await sendOne('outbound/X26ABC1/unknown-ca.csv');

      assert.equal(outcome.record?.status, 'stalled');
      assert.match(outcome.record?.errorText ?? '', /server's certificate is not signed by a trusted CA/);
      assert.equal(outcome.record?.errorCode, undefined);
      assert.equal(outcome.deadLetters.length, 1);
      assert.equal(outcome.meshSends, 0);
      assert.ok(outcome.untouched);
    });

    test('a secret missing its password is retried into the DLQ, naming the field and never a value', async () => {
      const { password: _password, ...rest } = credentialsFor(h, 'X26ABC1');
      putSecret(h, 'X26ABC1', JSON.stringify(rest));

      const outcome = await sendOne('outbound/X26ABC1/no-password.csv');

      assert.equal(outcome.record?.errorText, 'CredentialsError: secret mesh/X26ABC1: is missing password');
      assert.equal(outcome.deadLetters.length, 1);
      assert.ok(outcome.untouched);
      assertNoSecrets(JSON.stringify(outcome.logs) + JSON.stringify(outcome.record));
    });
  });

  describe('through a poll', () => {
    async function pollFailure(): Promise<{ error: unknown; logs: typeof h.logs }> {
      const from = h.logs.length;
      const error = await runPoll(h, ['X26ABC1']).then(
        () => assert.fail('the poll should have failed'),
        (e: unknown) => e,
      );
      return { error, logs: h.logs.slice(from) };
    }

    function assertLoudAndSafe(
      failure: { error: unknown; logs: typeof h.logs },
      type: typeof MeshError,
    ): void {
      assert.ok(failure.error instanceof type, `a ${type.name}, not ${String(failure.error)}`);
      assert.equal((failure.error as MeshError).mailboxId, 'X26ABC1');
      assert.equal((failure.error as MeshError).operation, 'inbox');
      const line = failure.logs.find((l) => l.message === 'inbox poll failed');
      assert.equal(line?.level, 'ERROR');
      assert.equal(line?.mailbox, 'X26ABC1');
      assert.equal((line?.error as { name?: string }).name, type.name);
      assertNoSecrets(JSON.stringify(failure.logs) + JSON.stringify(failure.error));
    }

    test('a wrong password fails the poll with MeshAuthenticationError', async () => {
      putSecret(h, 'X26ABC1', cases()['a wrong password']);

      const failure = await pollFailure();

      assertLoudAndSafe(failure, MeshAuthenticationError);
      assert.equal((failure.error as MeshError).status, 403);
      assert.equal((failure.error as MeshError).description, 'Invalid Authentication Token');
    });

    test('a wrong shared secret fails the poll with MeshAuthenticationError', async () => {
      putSecret(h, 'X26ABC1', cases()['a wrong shared secret']);

      const failure = await pollFailure();

      assertLoudAndSafe(failure, MeshAuthenticationError);
    });

    test('a certificate for another mailbox fails the poll with MeshAuthenticationError', async () => {
      putSecret(h, 'X26ABC1', cases()['a certificate issued to another mailbox']);

      const failure = await pollFailure();

      assertLoudAndSafe(failure, MeshAuthenticationError);
      assert.equal(
        (failure.error as MeshError).description,
        'Client certificate is not issued to this mailbox',
      );
    });

    test('an expired client certificate fails the poll with MeshTlsError', async () => {
      putSecret(h, 'X26ABC1', cases()['an expired client certificate']);

      const failure = await pollFailure();

      assertLoudAndSafe(failure, MeshTlsError);
      assert.match((failure.error as Error).message, /client certificate \(expired/);
    });

    test('a client key that does not belong to its certificate fails the poll with MeshTlsError naming it', async () => {
      putSecret(
        h,
        'X26ABC1',
        credentialsFor(h, 'X26ABC1', { clientKey: h.mesh.pki.clients['X26ABC2']!.key }),
      );

      const failure = await pollFailure();

      assertLoudAndSafe(failure, MeshTlsError);
      assert.match((failure.error as Error).message, /private key does not belong to the client certificate/);
    });

    test('a server certificate from an unknown CA fails the poll with MeshTlsError', async () => {
      putSecret(h, 'X26ABC1', cases()['a CA that did not sign the server certificate']);

      const failure = await pollFailure();

      assertLoudAndSafe(failure, MeshTlsError);
      assert.match((failure.error as Error).message, /not signed by a trusted CA/);
    });

    test('one mailbox with bad credentials does not stop the others being polled', async () => {
      putSecret(h, 'X26ABC1', cases()['a wrong password']);
      await h.mesh
        .client('X26ABC3')
        .sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' }, { body: 'x' });
      await h.takeMessages(h.downloadQueue);

      const failure = await runPoll(h, ['X26ABC1', 'X26ABC2']).then(
        () => undefined,
        (e: unknown) => e,
      );

      assert.ok(failure instanceof MeshAuthenticationError);
      assert.equal((await h.takeMessages(h.downloadQueue)).length, 1, 'X26ABC2 was still polled');
    });
  });
});
