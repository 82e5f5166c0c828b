import assert from 'node:assert/strict';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createPollFunction } from '../../../functions/inbound-poll/container.js';
import type { InboundEventV1 } from '../../../shared/events/inbound.js';
import { InboundStore } from '../../../shared/state/inbound-store.js';
import { QUEUES, ENV } from '../../../shared/wiring/pipeline.js';
import { pollOnly, startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

/**
 * Finding 1 of the exactly-once issue: a message stored and announced whose acknowledgement then fails, on every
 * receive up to the deployed maxReceiveCount, must stay stored. The evidence is what the pipeline does not write:
 * the MESH server's own counters, the objects in S3 and what a consumer receives from the event queue.
 */
describe('inbound: a stored message whose acknowledgement keeps failing', () => {
  let h: PipelineHarness;
  before(async () => {
    h = await startPipelineHarness({ maxReceiveCount: QUEUES.download.maxReceiveCount });
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await h.takeMessages(h.downloadQueue);
    await h.takeMessages(h.downloadQueue.dlq!);
    await h.takeMessages(h.inboundEventsQueue);
  });

  const env = (extra: Record<string, string> = {}) =>
    h.env({
      [ENV.leaseGraceMs]: '0',
      [ENV.maxReceiveCount]: String(QUEUES.download.maxReceiveCount),
      ...extra,
    });

  async function poll(extra: Record<string, string> = {}) {
    const [summary] = await pollOnly(h, 'X26ABC2', () =>
      createPollFunction(env(extra), { clients: h.clients, log: h.log, metrics: h.metrics }),
    );
    return summary!;
  }

  async function downloadUntilDrained() {
    const fn = createDownloadFunction(env(), { clients: h.clients, log: h.log, metrics: h.metrics });
    await h.drain(h.eventSource(h.downloadQueue, fn.handler, { timeoutMs: 30_000 }), h.downloadQueue, 90_000);
    await fn.close();
  }

  async function storedKeys(messageId: string) {
    const { Contents } = await h.clients.s3.send(
      new ListObjectsV2Command({ Bucket: h.inboundBucket, Prefix: 'inbound/X26ABC2/' }),
    );
    return (Contents ?? []).map((c) => c.Key!).filter((k) => k.includes(messageId));
  }

  for (const status of [403, 500]) {
    test(`stays stored when MESH answers ${status} to every acknowledgement, and the poller's retry only acknowledges it`, async () => {
      const messageId = await h.mesh
        .client('X26ABC1')
        .sendMessage(
          { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: 'a.csv' },
          { body: 'a,b\n1,2\n' },
        );
      await h.mesh.server.admin.setFaults([
        { endpoint: 'ack', times: 'always', action: { type: 'status', status } },
      ]);

      await poll();
      await downloadUntilDrained();

      // Every receive failed at the acknowledgement: the task is in the DLQ, the message stored once, announced once.
      assert.equal((await h.takeMessages(h.downloadQueue.dlq!)).length, 1);
      const record = await new InboundStore(h.clients.dynamo, h.tableName).get(
        InboundStore.idOf('X26ABC2', messageId),
      );
      assert.equal(record?.status, 'stored');
      assert.match(record?.errorText ?? '', new RegExp(String(status)));
      const before = await h.mesh.server.admin.stats();
      assert.equal(before.counters.acknowledgements, 0);

      // The cause passes; the poller queues the message again (it is still listed) and that task only acknowledges.
      await h.mesh.server.admin.clearFaults();
      const downloadsBefore = before.counters.chunkDownloads;
      const summary = await poll({ [ENV.requeueAfterSeconds]: '0' });
      assert.equal(summary.queued, 1);
      await downloadUntilDrained();

      const afterStats = await h.mesh.server.admin.stats();
      assert.equal(afterStats.counters.acknowledgements, 1, 'MESH records exactly one acknowledgement');
      assert.equal(
        afterStats.counters.chunkDownloads,
        downloadsBefore,
        'the message was not downloaded again',
      );
      assert.deepEqual(await storedKeys(messageId), [`inbound/X26ABC2/TEST_WORKFLOW/${messageId}/a.csv`]);
      const events = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
      assert.deepEqual(
        events.map((e) => e.messageId),
        [messageId],
        'a consumer receives one inbound event for the message',
      );
      assert.ok((h.metrics.totals.get('InboundAckFailures') ?? 0) >= QUEUES.download.maxReceiveCount);
    });
  }
});
