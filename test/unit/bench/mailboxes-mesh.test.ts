import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBenchMesh, type MeshPlacement } from '../../../bench/support/mailbox-mesh.js';
import type { MeshServerLogLine } from '../../../local/mesh-server/index.js';
import { MeshClient } from '../../../shared/mesh/index.js';

for (const placement of ['process', 'in-process'] satisfies MeshPlacement[]) {
  test(`the bench's MESH server (${placement}) seeds, lists and logs what the pipeline's clients do`, async () => {
    const pkiDir = await mkdtemp(join(tmpdir(), 'bench-mesh-'));
    const requests: { line: MeshServerLogLine; atMs: number }[] = [];
    const mesh = await startBenchMesh({
      placement,
      pkiDir,
      mailboxes: ['MB00000', 'MB00001'].map((id) => ({ id, password: 'password', ods: 'X26' })),
      workflows: [{ id: 'BENCH', senders: ['MB00001'], receivers: ['MB00000'] }],
      sharedSecret: 'TestKey',
      onRequest: (line, atMs) => requests.push({ line, atMs }),
    });
    const recipient = mesh.mailboxes.find((m) => m.id === 'MB00000')!;
    const client = new MeshClient({
      url: mesh.url,
      mailboxId: recipient.id,
      password: recipient.credentials.password,
      sharedSecret: recipient.credentials.sharedSecret,
      tls: {
        cert: recipient.credentials.clientCert,
        key: recipient.credentials.clientKey,
        ca: recipient.credentials.caCert,
      },
    });
    try {
      const before = Date.now();
      const [seeded] = await mesh.admin.seedMessages([
        { from: 'MB00001', to: 'MB00000', workflowId: 'BENCH', body: new Uint8Array([1, 2, 3]) },
      ]);
      const page = await client.listInbox();
      assert.deepEqual(page.messageIds, [seeded!.message_id]);

      // The listing, as the server recorded it, and its log line, which crosses in a batch from another process.
      const listings = await mesh.admin.inboxListings();
      assert.deepEqual(
        listings.map((l) => [l.mailbox, l.page, l.messages]),
        [['MB00000', 'first', 1]],
      );
      for (let waited = 0; !requests.some((r) => r.line.endpoint === 'inbox') && waited < 5_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const inbox = requests.find((r) => r.line.endpoint === 'inbox');
      assert.equal(inbox?.line.event, 'request');
      assert.ok(inbox.atMs >= before && inbox.atMs <= Date.now(), 'logged at the time of the request');
      const stored = await mesh.admin.listMessages({ recipient: 'MB00000' });
      assert.equal(stored[0]?.message_id, seeded!.message_id);
      if (placement === 'process') assert.ok(mesh.cpuMs() > 0, "the server's own CPU is counted");
      else assert.equal(mesh.cpuMs(), 0);
    } finally {
      await client.close();
      await mesh.close();
      await rm(pkiDir, { recursive: true, force: true });
    }
  });
}

test("an admin call the bench's MESH server refuses fails with the server's reason", async () => {
  const pkiDir = await mkdtemp(join(tmpdir(), 'bench-mesh-'));
  const mesh = await startBenchMesh({
    placement: 'process',
    pkiDir,
    mailboxes: [{ id: 'MB00000', password: 'password' }],
    workflows: [],
    sharedSecret: 'TestKey',
    onRequest: () => undefined,
  });
  try {
    await assert.rejects(
      mesh.admin.seedMessages([{ from: 'NOBODY', to: 'MB00000', workflowId: 'BENCH', body: 'x' }]),
      /NOBODY/,
    );
  } finally {
    await mesh.close();
    await rm(pkiDir, { recursive: true, force: true });
  }
});
