import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPollFunction } from '../../../functions/inbound-poll/container.js';
import { createLambdaContext } from '../../../local/runtime/lambda-context.js';
import { parseMailboxSettings } from '../../../shared/registry/mailbox.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

/**
 * The poll function's order of work for one mailbox: what can take a while (its registry record and secret) comes
 * before the claim, so that MESH sees the listing straight after it, and polls no closer than the claims.
 */
describe('inbound poll: a claim is followed by the listing alone', () => {
  let h: PipelineHarness;
  /** The harness's AWS calls in order: secret reads, and poll claims by mailbox. */
  const calls: string[] = [];
  /** DynamoDB commands by name. */
  const dynamoCommands = new Map<string, number>();
  before(async () => {
    h = await startPipelineHarness({ registered: ['X26ABC2'] });
    h.clients.secrets.middlewareStack.add(
      (next) => async (args) => {
        calls.push(`secret ${(args.input as { SecretId?: string }).SecretId}`);
        return next(args);
      },
      { step: 'initialize', name: 'recordSecretReads' },
    );
    h.clients.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { UpdateExpression?: string; Key?: { sk?: string } };
        if (input.UpdateExpression?.startsWith('SET nextPollAt')) calls.push(`claim ${input.Key?.sk}`);
        const name = context.commandName ?? '?';
        dynamoCommands.set(name, (dynamoCommands.get(name) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'recordPollClaims' },
    );
  });
  after(async () => {
    await h.close();
  });

  async function runPoll() {
    calls.length = 0;
    dynamoCommands.clear();
    const fn = createPollFunction(h.env(), { clients: h.clients, log: h.log, metrics: h.metrics });
    try {
      return await fn.handler({}, createLambdaContext('poll', 60_000));
    } finally {
      await fn.close();
    }
  }

  test("a mailbox's secret is read before its poll is claimed, and not again between the claim and the listing", async () => {
    const run = await runPoll();
    assert.deepEqual(
      run.polls.map((p) => p.mailboxId),
      ['X26ABC2'],
    );
    assert.deepEqual(calls, ['secret mesh/X26ABC2', 'claim X26ABC2']);
  });

  test('a mailbox whose client cannot be had is still claimed, and its failed poll counted under its name', async () => {
    // Registered, but with no secret: its client cannot be built.
    await h.registry.add(parseMailboxSettings({ id: 'X26ABC9', routes: [] }));
    try {
      const run = await runPoll();
      assert.deepEqual(
        run.failures.map((f) => f.mailboxId),
        ['X26ABC9'],
      );
      assert.ok(calls.includes('claim X26ABC9'), `claimed: ${calls.join(', ')}`);
      assert.notEqual((await h.registry.get('X26ABC9'))?.lastPolledAt, undefined, 'its claim was recorded');
    } finally {
      await h.registry.remove('X26ABC9');
    }
  });

  test('a backlog already queued is re-listed with a read per hundred messages, nothing written', async () => {
    const seeded = await h.mesh.server.admin.seedMessages(
      Array.from({ length: 620 }, (_, i) => ({
        from: 'X26ABC1',
        to: 'X26ABC2',
        workflowId: 'TEST_WORKFLOW',
        body: `m${i}`,
      })),
    );
    try {
      const [first] = (await runPoll()).polls;
      assert.equal(first?.queued, 620);
      // The second run may come before the registry says the mailbox is due again: wait for its claim to lapse.
      const due = (await h.registry.get('X26ABC2'))?.nextPollAt ?? 0;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now() + 5)));

      const [second] = (await runPoll()).polls;

      assert.equal(second?.listed, 620);
      assert.equal(second?.alreadyQueued, 620);
      const batchGets = [...dynamoCommands].filter(([name]) => /BatchGet/.test(name));
      assert.equal(
        batchGets.reduce((n, [, count]) => n + count, 0),
        7,
        'pages of 500 and 120: 5 + 2 reads',
      );
      assert.equal(dynamoCommands.get('PutCommand') ?? 0, 0, `no record written: ${[...dynamoCommands]}`);
    } finally {
      for (const m of seeded) await h.mesh.server.admin.expireMessage(m.message_id).catch(() => undefined);
      await h.takeMessages(h.downloadQueue);
    }
  });
});
