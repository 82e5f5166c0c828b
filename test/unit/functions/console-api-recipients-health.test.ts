import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshUnavailableError } from '../../../shared/console/errors.js';
import { meshEndpointLookup } from '../../../shared/console/recipient-lookup.js';
import { MeshTlsError } from '../../../shared/mesh/errors.js';
import { AT, mailbox, setup } from './console-api-support.js';
import { RecordingLog } from '../shared/recording-log.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('the console API: finding a recipient by ODS code and workflow', () => {
  test("asks MESH's endpoint lookup as the user's mailbox and answers the mailboxes it lists", async () => {
    const { call, lookups } = setup();
    const { status, body } = await call(
      'GET',
      '/api/mailboxes/X26ABC1/recipients?ods=x26&workflowId=TEST_WORKFLOW',
      { token: 'alice' },
    );
    assert.equal(status, 200);
    assert.deepEqual(body, {
      odsCode: 'X26',
      workflowId: 'TEST_WORKFLOW',
      results: [
        { mailboxId: 'X26ABC1', mailboxName: 'Mailbox A' },
        { mailboxId: 'X26ABC2', mailboxName: 'Mailbox B' },
      ],
    });
    assert.deepEqual(lookups, ['X26ABC1:X26:TEST_WORKFLOW']);
  });

  test('answers an empty list when MESH knows no mailbox for them', async () => {
    const { call } = setup();
    const { status, body } = await call(
      'GET',
      '/api/mailboxes/X26ABC1/recipients?ods=Y99&workflowId=TEST_WORKFLOW',
      { token: 'alice' },
    );
    assert.equal(status, 200);
    assert.deepEqual((body as unknown as { results: unknown[] }).results, []);
  });

  test("refuses a mailbox outside the user's groups and malformed input before asking MESH", async () => {
    const { call, lookups } = setup();
    const other = await call('GET', '/api/mailboxes/X26ABC2/recipients?ods=X26&workflowId=W', {
      token: 'alice',
    });
    assert.equal(other.status, 403);
    assert.match(other.body.error.message, /"mailbox:X26ABC2"/);
    const bad = await call('GET', '/api/mailboxes/X26ABC1/recipients?ods=X%2F26&workflowId=a%20b', {
      token: 'alice',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.problems, [
      'Enter an ODS code of 2 to 12 letters and digits, like X26 or RR8',
      'The workflow ID may contain only letters, digits, _ . and -',
    ]);
    const missing = await call('GET', '/api/mailboxes/X26ABC1/recipients', { token: 'alice' });
    assert.deepEqual(missing.body.error.problems, ['Enter the ODS code', 'Enter the workflow ID']);
    assert.deepEqual(lookups, []);
  });

  test('says MESH could not be asked when the lookup fails, logging the cause for operators only', async () => {
    const log = new RecordingLog();
    const lookup = meshEndpointLookup(async () => {
      throw new MeshTlsError('client certificate refused');
    }, log);
    await assert.rejects(lookup.find('X26ABC1', 'X26', 'W'), (error: unknown) => {
      assert.ok(error instanceof MeshUnavailableError);
      assert.equal(error.status, 502);
      assert.match(error.message, /MESH could not be asked as X26ABC1 just now/);
      assert.doesNotMatch(error.message, /certificate/);
      return true;
    });
    const [line] = log.lines.filter((l) => l.message === 'MESH endpoint lookup failed');
    assert.equal(line?.extra?.mailboxId, 'X26ABC1');
    assert.match(JSON.stringify(line?.extra), /MeshTlsError/);
  });
});

describe('the console API: mailbox health', () => {
  test('shows the last handshake, why the last check failed and the certificate days left', async () => {
    const now = Date.parse(AT);
    const { call } = setup({
      registry: {
        list: async () => [
          {
            ...mailbox('X26ABC1'),
            lastHealthCheckAt: now - DAY_MS,
            lastHealthCheckOk: true,
            lastHandshakeAt: now - DAY_MS,
            certificateNotAfter: now + 200.5 * DAY_MS,
          },
          {
            ...mailbox('X26ABC2'),
            lastHealthCheckAt: now - 60_000,
            lastHealthCheckOk: false,
            lastHealthFailure: 'tls',
            lastHandshakeAt: now - 2 * DAY_MS,
            certificateNotAfter: now + 10.5 * DAY_MS,
          },
          mailbox('X26ABC3'),
        ],
        get: async (id) => mailbox(id),
        setPaused: async (id, paused) => ({ ...mailbox(id), paused }),
        add: async () => true,
        remove: async () => true,
      },
    });
    const { status, body } = await call('GET', '/api/operations', { token: 'olivia' });
    assert.equal(status, 200);
    const health = (body as unknown as { mailboxes: Record<string, unknown>[] }).mailboxes;
    const pick = (m: Record<string, unknown>) => ({
      id: m.id,
      handshakeOk: m.handshakeOk,
      lastHandshakeAt: m.lastHandshakeAt,
      certificateDaysLeft: m.certificateDaysLeft,
      certificateExpiresSoon: m.certificateExpiresSoon,
    });
    assert.deepEqual(health.map(pick), [
      {
        id: 'X26ABC1',
        handshakeOk: true,
        lastHandshakeAt: new Date(now - DAY_MS).toISOString(),
        certificateDaysLeft: 200,
        certificateExpiresSoon: false,
      },
      {
        id: 'X26ABC2',
        handshakeOk: false,
        lastHandshakeAt: new Date(now - 2 * DAY_MS).toISOString(),
        certificateDaysLeft: 10,
        certificateExpiresSoon: true,
      },
      // Not checked yet: nothing is made up.
      {
        id: 'X26ABC3',
        handshakeOk: undefined,
        lastHandshakeAt: undefined,
        certificateDaysLeft: undefined,
        certificateExpiresSoon: undefined,
      },
    ]);
    assert.match(String(health[1]!.healthProblem), /TLS handshake failed/);
    assert.equal(health[0]!.healthProblem, undefined);
    assert.match(String(health[0]!.handshakeAndCertificate), /HealthCheckFailed.*CertificateDaysToExpiry/);
  });
});

describe('the console API: paging', () => {
  test('refuses a page link it did not give out', async () => {
    const { call } = setup();
    for (const path of [
      '/api/mailboxes/X26ABC1/outbox?cursor=z.nothing',
      '/api/mailboxes/X26ABC2/inbox?cursor=a.%21%21',
    ]) {
      const token = path.includes('X26ABC1') ? 'alice' : 'bob';
      const answer = await call('GET', path, { token });
      assert.equal(answer.status, 400, path);
      assert.deepEqual(answer.body.error.problems, [
        'The page link is not valid. Go back to the first page of the list.',
      ]);
    }
  });
});
