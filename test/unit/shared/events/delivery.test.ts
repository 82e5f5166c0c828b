import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PutEventsCommand, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import type { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { ConfigurationError, EnvReader } from '../../../../shared/config/env.js';
import { CLOUDEVENT_TYPES, type PipelineEventV1 } from '../../../../shared/events/cloudevents.js';
import { EventContractError, readPipelineEvent } from '../../../../shared/events/contracts.js';
import {
  deliveringPublisher,
  readEventDelivery,
  type EventDelivery,
} from '../../../../shared/events/delivery.js';
import { EventBusPublishError } from '../../../../shared/events/event-bus.js';
import { inboundEvent } from '../../../../shared/events/inbound.js';
import { outboundStatusEvent } from '../../../../shared/events/outbound-status.js';
import { publishPendingEvents } from '../../../../shared/events/pending.js';
import type { LeasedRecord } from '../../../../shared/state/leased-store.js';
import {
  ENV,
  FUNCTIONS,
  functionEnvironment,
  type DeploymentNames,
  type FunctionName,
} from '../../../../shared/wiring/pipeline.js';
import { assertMeetsEventContract } from '../../../harness/event-contracts.js';
import { transfer } from '../outbound/fakes.js';

const AT = '2026-12-03T10:00:00.000Z';
const SOURCE = 'nhs-mesh-pipeline/MeshFunctions';
const BUS = 'arn:aws:events:eu-west-2:111111111111:event-bus/mesh-events';

const inbound = () =>
  inboundEvent(
    {
      mailboxId: 'X26ABC2',
      messageId: '20261203100000000001_ABCDEF',
      status: 'stored',
      messageType: 'DATA',
      sender: 'X26ABC1',
      bucket: 'inbound-bucket',
      key: 'inbound/X26ABC2/TEST_WORKFLOW/20261203100000000001_ABCDEF/results.csv',
      size: 139,
      createdAt: AT,
      updatedAt: AT,
    } as never,
    AT,
  );
const status = () => outboundStatusEvent(transfer({ status: 'accepted' }), AT);

/**
 * CloudEvents 1.0's rules for an event in the JSON format, written from the specification (cloudevents/spec.md and
 * formats/json-format.md, v1.0.2): the required attributes and their types, the optional ones this pipeline uses,
 * and attribute names of lower-case letters and digits. Independent of the pipeline's own schema files.
 */
const CLOUDEVENTS_1_0 = {
  type: 'object',
  required: ['specversion', 'id', 'source', 'type'],
  propertyNames: { pattern: '^[a-z0-9]{1,20}$' },
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', minLength: 1 },
    source: { type: 'string', minLength: 1, format: 'uri-reference' },
    type: { type: 'string', minLength: 1 },
    datacontenttype: { type: 'string', minLength: 1 },
    dataschema: { type: 'string', format: 'uri' },
    subject: { type: 'string', minLength: 1 },
    time: { type: 'string', format: 'date-time' },
    data: true,
    data_base64: { type: 'string', contentEncoding: 'base64' },
  },
  // JSON format: `data` holds JSON for a JSON datacontenttype; `data_base64` only for binary data.
  not: { required: ['data', 'data_base64'] },
};
// strictRequired would refuse the `not: { required }` that says data and data_base64 never come together.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
formats.default(ajv);
const meetsCloudEvents = ajv.compile(CLOUDEVENTS_1_0);

/** Publishers over recording SQS and EventBridge clients; `busFails` makes the next PutEvents entries fail. */
function destinations(delivery: EventDelivery) {
  const sent: SendMessageCommand[] = [];
  const put: PutEventsCommand[] = [];
  const order: string[] = [];
  let busFails = 0;
  const sqs = {
    send: async (command: SendMessageCommand) => {
      sent.push(command);
      order.push('queue');
      return {};
    },
  } as unknown as Pick<SQSClient, 'send'>;
  const eventBridge = {
    send: async (command: PutEventsCommand): Promise<Partial<PutEventsCommandOutput>> => {
      put.push(command);
      order.push('bus');
      if (busFails > 0) {
        busFails--;
        return {
          FailedEntryCount: 1,
          Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
        };
      }
      return { FailedEntryCount: 0, Entries: [{ EventId: `bus-${put.length}` }] };
    },
  };
  const publisher = deliveringPublisher(
    sqs,
    'https://sqs.local/events.fifo',
    delivery,
    () => eventBridge as never,
  );
  return {
    publisher,
    sent,
    put,
    order,
    failBus: (count: number) => void (busFails = count),
    bodies: () => sent.map((c) => JSON.parse(c.input.MessageBody!) as Record<string, unknown>),
  };
}

describe('the CloudEvents envelope', () => {
  for (const [label, build] of [
    ['an inbound', inbound],
    ['an outbound status', status],
  ] as const) {
    test(`${label} event's body is exactly a CloudEvents 1.0 event in JSON, its data the plain event`, async () => {
      const { publisher, bodies } = destinations({ format: 'cloudevents', source: SOURCE });
      const [eventId, body] = build();
      const plain = JSON.parse(body) as PipelineEventV1;

      await publisher.publish(eventId, body, 'group-1');

      const [envelope] = bodies();
      assert.ok(meetsCloudEvents(envelope), JSON.stringify(meetsCloudEvents.errors));
      assert.deepEqual(Object.keys(envelope!).sort(), [
        'data',
        'datacontenttype',
        'id',
        'source',
        'specversion',
        'subject',
        'time',
        'type',
      ]);
      assert.deepEqual(envelope, {
        specversion: '1.0',
        id: eventId,
        source: SOURCE,
        type: CLOUDEVENT_TYPES[plain.schema],
        time: plain.occurredAt,
        subject:
          plain.schema === 'nhs-mesh-pipeline.inbound'
            ? `X26ABC2/${plain.messageId}`
            : `X26ABC1/${plain.transferId}`,
        datacontenttype: 'application/json',
        data: plain,
      });
      // The committed schemas/*.cloudevent.schema.json, by a JSON Schema validator.
      assertMeetsEventContract(envelope);
    });
  }

  test('the committed envelope schema refuses an envelope whose data breaks the event contract, or another type', async () => {
    const { publisher, bodies } = destinations({ format: 'cloudevents', source: SOURCE });
    await publisher.publish(...status(), 'group-1');
    const [envelope] = bodies() as [{ data: Record<string, unknown> }];
    assert.throws(
      () => assertMeetsEventContract({ ...envelope, data: { ...envelope.data, size: -1 } }),
      /outbound-status\.cloudevent\.schema\.json: \/data\/size must be >= 0/,
    );
    assert.throws(
      () => assertMeetsEventContract({ ...envelope, datacontenttype: 'text/plain' }),
      /\/datacontenttype must be equal to constant/,
    );
    assert.throws(
      () => assertMeetsEventContract({ ...envelope, type: 'uk.nhs.mesh.other.v1' }),
      /no JSON Schema/,
    );
    // The specification's rules above are not vacuous either: an upper-case attribute name, or no id, fails them.
    const { id: _id, ...withoutId } = envelope as Record<string, unknown>;
    assert.equal(meetsCloudEvents({ ...envelope, specVersion: '1.0' }), false);
    assert.equal(meetsCloudEvents(withoutId), false);
  });

  test('the FIFO deduplication id and the eventId attribute are the event id in either format', async () => {
    for (const format of ['plain', 'cloudevents'] as const) {
      const { publisher, sent } = destinations({ format, source: SOURCE });
      const [eventId, body] = status();
      await publisher.publish(eventId, body, 'group-1');
      assert.equal(sent[0]!.input.MessageDeduplicationId, eventId, format);
      assert.equal(sent[0]!.input.MessageGroupId, 'group-1', format);
      assert.equal(sent[0]!.input.MessageAttributes?.eventId?.StringValue, eventId, format);
    }
  });

  test('plain stays the default: the body is the event, byte for byte', async () => {
    const { publisher, sent } = destinations({ format: 'plain' });
    const [eventId, body] = status();
    await publisher.publish(eventId, body, 'group-1');
    assert.equal(sent[0]!.input.MessageBody, body);
  });
});

describe('reading a received event', () => {
  test('gives the plain event back from either format, checked against its contract', async () => {
    const { publisher, sent } = destinations({ format: 'cloudevents', source: SOURCE });
    const [eventId, body] = inbound();
    await publisher.publish(eventId, body, 'group-1');

    const fromEnvelope = readPipelineEvent(sent[0]!.input.MessageBody!, 'nhs-mesh-pipeline.inbound');
    const fromPlain = readPipelineEvent(body, 'nhs-mesh-pipeline.inbound');
    const fromDetail = readPipelineEvent(JSON.parse(body) as unknown);

    assert.deepEqual(fromEnvelope, JSON.parse(body));
    assert.deepEqual(fromPlain, JSON.parse(body));
    assert.deepEqual(fromDetail, JSON.parse(body));
    assert.equal(fromEnvelope.messageId, '20261203100000000001_ABCDEF');
  });

  test('refuses an envelope that disagrees with its data, an event that breaks its contract, or another schema', async () => {
    const { publisher, bodies } = destinations({ format: 'cloudevents', source: SOURCE });
    const [eventId, body] = inbound();
    await publisher.publish(eventId, body, 'group-1');
    const [envelope] = bodies();
    const refused = (value: unknown, pattern: RegExp) =>
      assert.throws(
        () => readPipelineEvent(value, 'nhs-mesh-pipeline.inbound'),
        (error: unknown) => error instanceof EventContractError && pattern.test(error.message),
      );

    refused({ ...envelope, id: 'another' }, /id differs from data\.eventId/);
    refused({ ...envelope, time: '2026-12-03T11:00:00.000Z' }, /time differs from data\.occurredAt/);
    refused({ ...envelope, specversion: '0.3' }, /specversion: invalid_value/);
    refused({ ...JSON.parse(body), size: -1 }, /size: too_small/);
    refused(status()[1], /schema: expected nhs-mesh-pipeline\.inbound/);
    refused('{', /not JSON/);
  });
});

describe('the EventBridge bus beside the queue', () => {
  const delivery: EventDelivery = { format: 'cloudevents', source: SOURCE, eventBus: BUS };

  test('puts each event on the bus after the queue: source, detail-type, time, and the plain event as detail', async () => {
    const { publisher, put, order } = destinations(delivery);
    const [eventId, body] = inbound();

    await publisher.publish(eventId, body, 'group-1');

    assert.deepEqual(order, ['queue', 'bus']);
    assert.deepEqual(put[0]!.input.Entries, [
      {
        EventBusName: BUS,
        Source: SOURCE,
        DetailType: 'uk.nhs.mesh.inbound.v1',
        Detail: body,
        Time: new Date(AT),
      },
    ]);
  });

  test('a failed entry (FailedEntryCount > 0) fails the publish, so the event stays pending for the retry', async () => {
    const { publisher, failBus, sent, put } = destinations(delivery);
    const [eventId, body] = status();
    const record = { pendingEvents: { [eventId]: body } } as unknown as LeasedRecord;
    const cleared: string[] = [];
    const store = { clearPendingEvent: async (_id: string, id: string) => void cleared.push(id) };

    failBus(1);
    await assert.rejects(
      publishPendingEvents(record, 'T1', 'T1', publisher, store),
      (error: unknown) =>
        error instanceof EventBusPublishError &&
        error.errorCode === 'ThrottlingException' &&
        error.eventId === eventId,
    );
    assert.deepEqual(cleared, [], 'not done: the bus did not take it');

    // The retry (the invocation's own, or the relay's): the queue is sent the same deduplication id, which the FIFO
    // queue drops inside its window; the bus takes the event for the first time.
    await publishPendingEvents(record, 'T1', 'T1', publisher, store);
    assert.deepEqual(cleared, [eventId]);
    assert.deepEqual(
      sent.map((c) => c.input.MessageDeduplicationId),
      [eventId, eventId],
    );
    assert.equal(put.length, 2);
  });

  test('a bus answer with no entry result is a failure too', async () => {
    const sqs = { send: async () => ({}) } as unknown as Pick<SQSClient, 'send'>;
    const publisher = deliveringPublisher(sqs, 'https://sqs.local/q.fifo', delivery, () => ({
      send: async () => ({}) as never,
    }));
    await assert.rejects(publisher.publish(...status(), 'g'), EventBusPublishError);
  });
});

describe('the event delivery settings', () => {
  test('are plain events on the queues only when nothing is set', () => {
    const read = new EnvReader({});
    assert.deepEqual(readEventDelivery(read), { format: 'plain' });
    read.done();
  });

  test('read the envelope switch, the bus and the source', () => {
    const read = new EnvReader({
      [ENV.cloudEventsEnvelope]: 'true',
      [ENV.eventBusName]: BUS,
      [ENV.eventSource]: SOURCE,
    });
    assert.deepEqual(readEventDelivery(read), { format: 'cloudevents', source: SOURCE, eventBus: BUS });
    read.done();
    const busOnly = new EnvReader({ [ENV.eventBusName]: BUS, [ENV.eventSource]: SOURCE });
    assert.deepEqual(readEventDelivery(busOnly), { format: 'plain', source: SOURCE, eventBus: BUS });
  });

  test('fail the cold start, named, when the envelope or a bus has no source', () => {
    for (const env of [{ [ENV.cloudEventsEnvelope]: 'true' }, { [ENV.eventBusName]: BUS }]) {
      const read = new EnvReader(env);
      readEventDelivery(read);
      assert.throws(
        () => read.done(),
        (error: unknown) =>
          error instanceof ConfigurationError && error.problems.includes(`${ENV.eventSource} is not set`),
      );
    }
  });

  test('are given by the wiring to exactly the functions that publish events, the bus only when there is one', () => {
    const deployment: DeploymentNames = {
      meshUrl: 'https://localhost:8700',
      tableName: 'mesh',
      outboundBucket: 'outbound',
      inboundBucket: 'inbound',
      secretPrefix: 'mesh/',
      queueUrl: (queue) => `https://sqs.eu-west-2.amazonaws.com/000000000000/${queue}`,
    };
    const given = (events: DeploymentNames['events']) =>
      (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) => {
        const env = functionEnvironment(name, { ...deployment, events });
        return env[ENV.eventSource] === SOURCE && env[ENV.eventBusName] === events?.eventBus;
      });

    assert.deepEqual(given({ source: SOURCE, eventBus: BUS }), [
      'outboundSend',
      'inboundDownload',
      'deliveryTracker',
      'eventRelay',
    ]);
    assert.deepEqual(given({ source: SOURCE }), [
      'outboundSend',
      'inboundDownload',
      'deliveryTracker',
      'eventRelay',
    ]);
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const plain = functionEnvironment(name, deployment);
      assert.ok(!(ENV.eventSource in plain) && !(ENV.eventBusName in plain), name);
    }
  });
});
