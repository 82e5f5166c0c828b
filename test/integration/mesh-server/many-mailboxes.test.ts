/**
 * The local MESH server at the scale of the mailboxes benchmark: 1,000 mailboxes with their own client
 * certificates, mailboxes added at run time, inbox listings recorded per mailbox, and 10,000 seeded messages
 * (half in one mailbox) without the per-request cost growing with them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Agent } from 'undici';
import {
  startMeshServer,
  type AdminMailboxView,
  type AdminMessageView,
  type AdminSeedInput,
  type InboxListing,
  type RunningMeshServer,
} from '../../../local/mesh-server/index.js';
import { issueClientCert, loadOrCreateTestPki, type TestPki } from '../../../local/pki.js';
import type { InboxPageBody } from '../../../shared/mesh/protocol.js';
import { MeshTestClient, PASSWORD, SHARED_SECRET, TestClock, tlsAgent } from './support.js';

const COUNT = 1000;
const IDS = Array.from({ length: COUNT }, (_, i) => `X26BM${String(i).padStart(4, '0')}`);
const NOISY = IDS[0]!;
const QUIET = IDS[COUNT - 1]!;
const WORKFLOW = 'TEST_WORKFLOW';

describe('local MESH server with 1,000 mailboxes', () => {
  let dir: string;
  let pki: TestPki;
  let server: RunningMeshServer;
  const clock = new TestClock();
  const agents: Agent[] = [];
  const timings: Record<string, number> = {};

  const client = (mailbox: string, cert = pki.clients[mailbox]) => {
    const agent = tlsAgent(pki, cert);
    agents.push(agent);
    return new MeshTestClient(server.url, mailbox, agent, clock);
  };
  const admin = (method: 'GET' | 'POST', path: string, body?: unknown) =>
    client(NOISY).call(method, path, {
      auth: false,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-many-'));
    let started = performance.now();
    pki = (await loadOrCreateTestPki(join(dir, 'pki'), IDS)).pki;
    timings['pkiFirstMs'] = performance.now() - started;
    started = performance.now();
    const cached = (await loadOrCreateTestPki(join(dir, 'pki'), IDS)).pki;
    timings['pkiCachedMs'] = performance.now() - started;
    assert.equal(cached.clients[QUIET]!.cert, pki.clients[QUIET]!.cert);
    started = performance.now();
    server = await startMeshServer({
      mailboxes: IDS.map((id) => ({ id, password: PASSWORD })),
      workflows: [{ id: WORKFLOW, senders: IDS, receivers: IDS }],
      sharedSecret: SHARED_SECRET,
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
      now: clock.now,
    });
    timings['serverStartMs'] = performance.now() - started;
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.destroy()));
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('sets up 1,000 mailboxes with their own certificates in seconds, and instantly from the cache', (t) => {
    t.diagnostic(JSON.stringify(timings));
    assert.equal(Object.keys(pki.clients).length, COUNT);
    assert.equal(new Set(Object.values(pki.clients).map((c) => c.key)).size, COUNT, 'one key per mailbox');
    // Generous bounds: the machine may be busy; typical figures are in the diagnostic above.
    assert.ok(timings['pkiFirstMs']! < 20_000, `first PKI run took ${timings['pkiFirstMs']} ms`);
    assert.ok(timings['pkiCachedMs']! < 2_000, `cached PKI run took ${timings['pkiCachedMs']} ms`);
    assert.ok(timings['serverStartMs']! < 2_000, `server start took ${timings['serverStartMs']} ms`);
  });

  test("a mailbox's own certificate works and another mailbox's certificate is refused", async () => {
    const own = await client(QUIET).handshake();
    const borrowed = await client(QUIET, pki.clients[NOISY]).handshake();

    assert.equal(own.status, 200);
    assert.equal(borrowed.status, 403);
  });

  describe('mailboxes added at run time', () => {
    const NEW_ID = 'X26NEW01';

    test('a mailbox unknown at start is refused, then works once added through the admin API', async () => {
      const cert = await issueClientCert(pki.ca, NEW_ID);
      const before = await client(NEW_ID, cert).handshake();

      const added = await server.admin.addMailbox({ id: 'x26new01', password: 'new-password', ods: 'X26' });
      const fresh = new MeshTestClient(server.url, NEW_ID, tlsAgent(pki, cert), clock, 'new-password');
      agents.push(fresh.agent);
      const handshake = await fresh.handshake();
      const sent = await fresh.send(QUIET, 'from the new mailbox');
      const received = await client(NEW_ID, cert).call('GET', `/messageexchange/${NEW_ID}/inbox`, {
        auth: fresh.tokens.next(),
      });
      const again = await server.admin.addMailbox({ id: NEW_ID, password: 'new-password', ods: 'X26' });

      assert.equal(before.status, 403);
      assert.deepEqual(added, { id: NEW_ID, added: true });
      assert.equal(handshake.status, 200);
      assert.match(sent, /^\d{20}_[0-9A-F]{6}$/);
      assert.equal(received.status, 200);
      assert.deepEqual(again, { id: NEW_ID, added: false });
    });

    test('over HTTP: adds a mailbox with workflows, lists mailboxes without passwords, refuses a conflict', async () => {
      const added = await admin('POST', '/admin/mailboxes', {
        id: 'X26NEW02',
        password: 'pw2',
        ods: 'X27',
        receives: ['NEW_WORKFLOW'],
      });
      const conflict = await admin('POST', '/admin/mailboxes', { id: 'X26NEW02', password: 'other' });
      const invalid = await admin('POST', '/admin/mailboxes', { id: 'admin', password: '' });
      const listed = await admin('GET', '/messageexchange/admin/mailboxes');
      const search = await client(NOISY).call('GET', '/messageexchange/workflowsearch/NEW_WORKFLOW');

      assert.equal(added.status, 200);
      assert.deepEqual(added.json(), { id: 'X26NEW02', added: true });
      assert.equal(conflict.status, 409);
      assert.equal(invalid.status, 400);
      const mailboxes = listed.json<{ mailboxes: AdminMailboxView[] }>().mailboxes;
      assert.ok(mailboxes.length >= COUNT + 1);
      assert.deepEqual(
        mailboxes.find((m) => m.id === 'X26NEW02'),
        { id: 'X26NEW02', ods: 'X27' },
      );
      assert.ok(mailboxes.every((m) => !('password' in m)));
      assert.deepEqual(search.json(), { results: [{ mailbox_id: 'X26NEW02', mailbox_name: 'X26NEW02' }] });
    });
  });

  describe('with 10,000 seeded messages, half of them in one mailbox', () => {
    const seeded: { message_id: string; created_at: string }[] = [];
    let listingBeforeMs: number;

    /** Median time of `n` inbox listings of one mailbox, each a fresh first page. */
    async function medianListingMs(mailbox: string, n = 25): Promise<number> {
      const box = client(mailbox);
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        const res = await box.inbox();
        times.push(performance.now() - started);
        assert.equal(res.status, 200);
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
    }

    before(async () => {
      await server.admin.reset();
      listingBeforeMs = await medianListingMs(QUIET);
      const inputs: AdminSeedInput[] = Array.from({ length: 10_000 }, (_, i) => ({
        from: IDS[(i + 1) % COUNT]!,
        to: i < 5000 ? NOISY : IDS[1 + (i % (COUNT - 1))]!,
        workflowId: WORKFLOW,
        body: `message ${i}`,
        localId: `seed-${i}`,
      }));
      const started = performance.now();
      seeded.push(...(await server.admin.seedMessages(inputs)));
      timings['seed10000Ms'] = performance.now() - started;
    });

    test('seeds them quickly, in order, as accepted messages with their arrival time', async (t) => {
      t.diagnostic(`seeded 10,000 messages in ${Math.round(timings['seed10000Ms']!)} ms`);
      const stats = await server.admin.stats();
      const noisy = await client(NOISY).inbox('?max_results=5000');
      const quietView = await server.admin.listMessages({ recipient: QUIET });

      assert.equal(seeded.length, 10_000);
      assert.equal(stats.counters.messagesSeeded, 10_000);
      assert.equal(stats.counters.sendsAccepted, 0);
      assert.equal(stats.mailboxes[NOISY]?.inbox.accepted, 5000);
      assert.deepEqual(
        noisy.json<InboxPageBody>().messages,
        seeded.slice(0, 5000).map((s) => s.message_id),
        'inbox order is seeding order',
      );
      assert.ok(quietView.length > 0);
      assert.ok(
        quietView.every((m: AdminMessageView) => m.status === 'accepted' && m.accepted_at === m.created_at),
      );
      assert.ok(timings['seed10000Ms']! < 10_000, `seeding took ${timings['seed10000Ms']} ms`);
    });

    test('a seeded message downloads, acknowledges and tracks like a sent one', async () => {
      const quiet = client(QUIET);
      const [messageId] = (await quiet.inbox()).json<InboxPageBody>().messages;
      const view = await server.admin.getMessage(messageId!);
      const download = await quiet.download(messageId!);
      const ack = await quiet.ack(messageId!);
      const sender = client(view!.sender!);
      const tracked = await sender.track(messageId!);
      const byLocalId = await sender.call(
        'GET',
        `/messageexchange/${view!.sender}/outbox/tracking/${view!.local_id}`,
      );

      assert.equal(download.status, 200);
      assert.match(download.body.toString(), /^message \d+$/);
      assert.equal(ack.status, 200);
      assert.equal(tracked.json<{ status: string }>().status, 'acknowledged');
      assert.equal(byLocalId.status, 200);
    });

    test("a quiet mailbox's inbox listing costs about the same with 10,000 messages on the server", async (t) => {
      const listingAfterMs = await medianListingMs(IDS[500]!);
      t.diagnostic(
        `median inbox listing: ${listingBeforeMs.toFixed(2)} ms empty, ${listingAfterMs.toFixed(2)} ms with 10,000 messages`,
      );
      assert.ok(
        listingAfterMs < listingBeforeMs * 4 + 5,
        `${listingAfterMs} ms against ${listingBeforeMs} ms before seeding`,
      );
    });
  });

  describe('inbox listings', () => {
    test('records each page per mailbox, first or continuation, by the server clock', async () => {
      await server.admin.reset();
      await server.admin.seedMessages(
        Array.from({ length: 25 }, (_, i) => ({
          from: NOISY,
          to: QUIET,
          workflowId: WORKFLOW,
          body: `m${i}`,
        })),
      );
      const quiet = client(QUIET);
      const startedAt = clock.now().getTime();

      const first = await quiet.inbox('?max_results=10');
      const next = first.json<InboxPageBody>().links?.next ?? assert.fail('no next link');
      const second = await quiet.call('GET', next);
      await client(NOISY).inbox();
      const failed = await quiet.inbox('?max_results=1');

      const quietListings = await server.admin.inboxListings(QUIET);
      const all = await server.admin.inboxListings();
      const later = await server.admin.inboxListings(undefined, { since: new Date(Date.now() + 60_000) });
      const overHttp = await admin('GET', `/admin/inbox-listings?mailbox=${QUIET.toLowerCase()}`);

      assert.equal(second.status, 200);
      assert.equal(failed.status, 400, 'a refused listing is not recorded');
      assert.deepEqual(
        quietListings.map((l) => [l.mailbox, l.page, l.messages, l.more]),
        [
          [QUIET, 'first', 10, true],
          [QUIET, 'continuation', 10, true],
        ],
      );
      assert.ok(quietListings.every((l) => l.atMs >= startedAt && new Date(l.at).getTime() === l.atMs));
      assert.deepEqual(
        all.map((l) => l.mailbox),
        [QUIET, QUIET, NOISY],
      );
      assert.deepEqual(later, []);
      assert.deepEqual(overHttp.json<{ listings: InboxListing[] }>().listings, quietListings);
    });

    test('follows the server clock, so a shifted test clock shows in the timestamps', async () => {
      await server.admin.reset();
      clock.offsetMs = 3_600_000;
      try {
        await client(QUIET).inbox();
        const [listing] = await server.admin.inboxListings(QUIET);
        assert.ok(Math.abs(listing!.atMs - (Date.now() + 3_600_000)) < 60_000);
      } finally {
        clock.offsetMs = 0;
      }
    });
  });

  test('seeding refuses unknown mailboxes and empty bodies, over HTTP too', async () => {
    await assert.rejects(
      server.admin.seedMessage({ from: NOISY, to: 'NOSUCH', workflowId: WORKFLOW, body: 'x' }),
      /no mailbox NOSUCH/,
    );
    const empty = await admin('POST', '/admin/seed', {
      messages: [{ from: NOISY, to: QUIET, workflowId: WORKFLOW, body: '' }],
    });
    const good = await admin('POST', '/admin/seed', {
      messages: [
        { from: NOISY, to: QUIET, workflowId: WORKFLOW, bodyBase64: Buffer.from('hi').toString('base64') },
      ],
    });
    const [seededId] = good.json<{ messages: { message_id: string }[] }>().messages.map((m) => m.message_id);
    const listed = await admin('GET', `/admin/messages?recipient=${QUIET}&status=accepted`);

    assert.equal(empty.status, 400);
    assert.equal(good.status, 200);
    assert.ok(
      listed
        .json<{ messages: AdminMessageView[] }>()
        .messages.some((m) => m.message_id === seededId && m.chunk_sizes[0] === 2),
    );
  });
});
