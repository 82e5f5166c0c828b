// Events leaving by both ways at once: the FIFO queues in the CloudEvents format, and an EventBridge bus (the local
// stand-in, read from the bus's side). The functions build their EventBridge client as in Lambda, with no
// configuration, so this file points process.env at the emulators (node:test keeps that to this file's process).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createPollFunction } from '../../../functions/inbound-poll/container.js';
import { createRelayFunction } from '../../../functions/event-relay/container.js';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import type { CloudEventEnvelope, PipelineEventV1 } from '../../../shared/events/cloudevents.js';
import { readPipelineEvent } from '../../../shared/events/contracts.js';
import type { InboundEventV1 } from '../../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../../shared/events/outbound-status.js';
import { ENV, eventDeliveryEnvironment } from '../../../shared/wiring/pipeline.js';
import { assertMeetsEventContract } from '../../harness/event-contracts.js';
import { pollOnly, startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

const SOURCE = 'nhs-mesh-pipeline/IntegrationTest';
const BUS = 'mesh-events';

describe('events on the FIFO queues (CloudEvents) and on an EventBridge bus', () => {
  let h: PipelineHarness;
  let busArn: string;
  before(async () => {
    h = await startPipelineHarness();
    Object.assign(process.env, h.aws.env());
    busArn = `arn:aws:events:${h.aws.region}:${h.aws.accountId}:event-bus/${BUS}`;
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    for (const queue of [h.statusQueue, h.inboundEventsQueue, h.sendQueue, h.downloadQueue, h.relayQueue]) {
      await h.takeMessages(queue);
    }
  });

  /** The functions' environment with the deployment's event delivery settings, as the construct gives them. */
  const env = () =>
    h.env({
      ...eventDeliveryEnvironment({ source: SOURCE, eventBus: busArn }),
      [ENV.cloudEventsEnvelope]: 'true',
      [ENV.leaseGraceMs]: '0',
    });
  const overrides = () => ({ clients: h.clients, log: h.log, metrics: h.metrics });

  /** What a consumer of the queue reads (each body checked against its JSON Schema by takeMessages), unwrapped. */
  async function fromQueue<E extends PipelineEventV1>(queue: PipelineHarness['statusQueue']) {
    const envelopes = await h.takeMessages<CloudEventEnvelope<E>>(queue);
    for (const envelope of envelopes) assert.equal(envelope.specversion, '1.0');
    return envelopes.map((envelope) => readPipelineEvent(envelope) as E);
  }

  /** What a rule on the bus delivers, newer than `since`, each detail checked against its JSON Schema. */
  function fromBus<E extends PipelineEventV1>(since: number, detailType: string) {
    const events = h.aws.eventBridge.events(BUS).slice(since);
    for (const event of events) {
      assert.equal(event.source, SOURCE);
      assert.equal(event['detail-type'], detailType);
      assertMeetsEventContract(event.detail);
    }
    return events.map((event) => event.detail as E);
  }

  /** Sends one file through the send function, with the event relay running beside it as in AWS. */
  async function send(key: string) {
    const sender = createSendFunction(env(), overrides());
    const relay = createRelayFunction(env(), overrides());
    await h.putObject(key, 'a,b\n1,2\n', { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' });
    const sendSource = h.eventSource(h.sendQueue, sender.handler);
    const relaySource = h.eventSource(h.relayQueue, relay.handler, { batchSize: 10 });
    await h.drain(sendSource, h.sendQueue);
    await h.drain(relaySource, h.relayQueue);
    await Promise.all([sender.close(), relay.close()]);
  }

  test("a sent file's status events reach the queue as CloudEvents and the bus as plain events, each once, in order", async () => {
    const since = h.aws.eventBridge.events(BUS).length;

    await send('outbound/X26ABC1/both-ways.csv');

    const queued = await fromQueue<OutboundStatusEventV1>(h.statusQueue);
    const onBus = fromBus<OutboundStatusEventV1>(since, 'uk.nhs.mesh.outbound-status.v1');
    assert.deepEqual(
      queued.map((e) => e.status),
      ['received', 'sending', 'accepted'],
    );
    assert.deepEqual(onBus, queued);
  });

  test('a PutEvents that fails is retried until the bus takes the event, with no repeat on the queue', async () => {
    const since = h.aws.eventBridge.events(BUS).length;
    const refusedBefore = h.aws.eventBridge.refusedEntries;
    // The first event of the transfer (received) is refused by the bus once: FailedEntryCount 1, not an HTTP error.
    h.aws.eventBridge.failNextEntries(1);

    await send('outbound/X26ABC1/bus-refused-once.csv');

    assert.equal(h.aws.eventBridge.refusedEntries, refusedBefore + 1, 'the bus refused one entry');
    const queued = await fromQueue<OutboundStatusEventV1>(h.statusQueue);
    const onBus = fromBus<OutboundStatusEventV1>(since, 'uk.nhs.mesh.outbound-status.v1');
    const ids = queued.map((e) => e.eventId);
    assert.deepEqual(
      queued.map((e) => e.status),
      ['received', 'sending', 'accepted'],
      `each event once on the queue: ${ids.join(', ')}`,
    );
    assert.deepEqual(
      onBus.map((e) => e.eventId),
      ids,
      'each event once on the bus, the refused one included',
    );
  });

  test('a received message is announced on the queue and the bus before MESH is told it was collected, even when the bus refuses it once', async () => {
    const since = h.aws.eventBridge.events(BUS).length;
    const messageId = await h.mesh
      .client('X26ABC1')
      .sendMessage(
        { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: 'results.csv' },
        { body: 'a,b\n' },
      );
    await pollOnly(h, 'X26ABC2', () => createPollFunction(env(), overrides()));
    h.aws.eventBridge.failNextEntries(1);
    const download = createDownloadFunction(env(), overrides());
    const source = h.eventSource(h.downloadQueue, download.handler);

    // The first attempt stores the message, but the bus refuses its event: MESH must still hold it.
    const refusedBefore = h.aws.eventBridge.refusedEntries;
    assert.equal(await source.pollOnce(0), 1, 'one download attempt');
    assert.equal(h.aws.eventBridge.refusedEntries, refusedBefore + 1, 'the bus refused its event');
    assert.deepEqual((await h.mesh.client('X26ABC2').listInbox()).messageIds, [messageId]);
    assert.equal(fromBus(since, 'uk.nhs.mesh.inbound.v1').length, 0);

    await h.drain(source, h.downloadQueue);
    await download.close();

    assert.deepEqual((await h.mesh.client('X26ABC2').listInbox()).messageIds, []);
    const queued = await fromQueue<InboundEventV1>(h.inboundEventsQueue);
    const onBus = fromBus<InboundEventV1>(since, 'uk.nhs.mesh.inbound.v1');
    assert.deepEqual(
      queued.map((e) => e.messageId),
      [messageId],
    );
    assert.deepEqual(onBus, queued);
  });
});
