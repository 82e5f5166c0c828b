import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { H, type InboxPageBody } from '../../../shared/mesh/protocol.js';
import { startTestMesh, type MeshTestClient, type TestMesh } from './support.js';

const TOTAL = 620;
/** Every third message is a business ack, so filters have something to drop. */
const workflowOf = (i: number) => (i % 3 === 2 ? 'TEST_WORKFLOW_ACK' : 'TEST_WORKFLOW');

async function followAllPages(
  client: MeshTestClient,
  firstQuery: string,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let path: string | undefined = `/messageexchange/${client.mailbox}/inbox${firstQuery}`;
  while (path) {
    const res = await client.call('GET', path);
    assert.equal(res.status, 200, res.body.toString());
    const page = res.json<InboxPageBody>();
    ids.push(...page.messages);
    pages += 1;
    path = page.links?.next;
  }
  return { ids, pages };
}

describe('local MESH server inbox paging', () => {
  let mesh: TestMesh;
  let recipient: MeshTestClient;
  const sent: { id: string; workflow: string }[] = [];

  before(async () => {
    mesh = await startTestMesh();
    const sender = mesh.as('X26ABC1');
    recipient = mesh.as('X26ABC2');
    // Sequential sends fix the acceptance order the inbox lists them in.
    for (let i = 0; i < TOTAL; i++) {
      const workflow = workflowOf(i);
      sent.push({ id: await sender.send('X26ABC2', `message ${i}`, { [H.workflowId]: workflow }), workflow });
    }
  });
  after(async () => {
    await mesh.close();
  });

  test('lists 500 messages by default with a relative next link, then the rest', async () => {
    const first = await recipient.inbox();
    const page = first.json<InboxPageBody>();
    const second = (await recipient.call('GET', page.links!.next!)).json<InboxPageBody>();

    assert.equal(page.messages.length, 500);
    assert.deepEqual(
      page.messages,
      sent.slice(0, 500).map((m) => m.id),
    );
    assert.equal(page.approx_inbox_count, TOTAL);
    assert.equal(page.links?.self, '/messageexchange/X26ABC2/inbox');
    assert.match(
      page.links?.next ?? '',
      /^\/messageexchange\/X26ABC2\/inbox\?continue_from=[A-Za-z0-9_-]{24,}$/,
    );
    assert.deepEqual(
      second.messages,
      sent.slice(500).map((m) => m.id),
    );
    assert.equal(second.links?.next, undefined);
  });

  test('keeps max_results in the links when it is not the default', async () => {
    const { ids, pages } = await followAllPages(recipient, '?max_results=100');
    const first = (await recipient.inbox('?max_results=100')).json<InboxPageBody>();

    assert.equal(pages, 7);
    assert.deepEqual(
      ids,
      sent.map((m) => m.id),
    );
    assert.match(first.links?.next ?? '', /max_results=100&continue_from=/);
  });

  test('filters by workflow, reading max_results messages per page before filtering', async () => {
    const first = (await recipient.inbox('?max_results=10&workflow_filter=!*_ACK*')).json<InboxPageBody>();
    const everything = await followAllPages(recipient, '?max_results=10&workflow_filter=!*_ACK*');
    const acksOnly = await followAllPages(recipient, '?workflow_filter=TEST_WORKFLOW_ACK');

    assert.deepEqual(
      first.messages,
      sent
        .slice(0, 10)
        .filter((m) => m.workflow === 'TEST_WORKFLOW')
        .map((m) => m.id),
    );
    assert.match(first.links?.next ?? '', /workflow_filter=/);
    assert.deepEqual(
      everything.ids,
      sent.filter((m) => m.workflow === 'TEST_WORKFLOW').map((m) => m.id),
    );
    assert.deepEqual(
      acksOnly.ids,
      sent.filter((m) => m.workflow === 'TEST_WORKFLOW_ACK').map((m) => m.id),
    );
  });

  test('can answer an empty filtered page that still has a next link', async () => {
    const page = (
      await recipient.inbox('?max_results=10&workflow_filter=NO_SUCH_WORKFLOW')
    ).json<InboxPageBody>();

    assert.deepEqual(page.messages, []);
    assert.ok(page.links?.next);
  });

  test('counts the inbox on the deprecated count endpoint', async () => {
    const res = await recipient.call('GET', '/messageexchange/X26ABC2/count');

    assert.deepEqual(res.json(), { count: TOTAL });
  });

  test('refuses max_results outside 10..5000 and a continue_from it did not issue', async () => {
    const tooSmall = await recipient.inbox('?max_results=9');
    const tooBig = await recipient.inbox('?max_results=5001');
    const forged = await recipient.inbox(`?continue_from=${'A'.repeat(30)}`);
    const otherMailbox = (await mesh.as('X26ABC3').inbox('?max_results=10')).json<InboxPageBody>();
    const firstPage = (await recipient.inbox('?max_results=10')).json<InboxPageBody>();
    const borrowed = await mesh
      .as('X26ABC3')
      .call('GET', firstPage.links!.next!.replace('X26ABC2', 'X26ABC3'));

    assert.equal(tooSmall.status, 400);
    assert.equal(tooBig.status, 400);
    assert.equal(forged.status, 400);
    assert.deepEqual(otherMailbox.messages, []);
    assert.equal(borrowed.status, 400);
  });
});
