import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  checkEventContract,
  EVENT_CONTRACTS,
  EventContractError,
  eventJsonSchemas,
} from '../../../../shared/events/contracts.js';
import { inboundEvent, type InboundEventV1 } from '../../../../shared/events/inbound.js';
import { outboundStatusEvent } from '../../../../shared/events/outbound-status.js';
import { SqsEventPublisher } from '../../../../shared/events/publisher.js';
import type { InboundRecord } from '../../../../shared/inbound/inbound-record.js';
import { StoredMessage } from '../../../../shared/inbound/stored-message.js';
import type { MetricsSink } from '../../../../shared/observability/ports.js';
import { StatusChanges } from '../../../../shared/outbound/status-changes.js';
import { transfer } from '../outbound/fakes.js';
import { assertMeetsEventContract } from '../../../harness/event-contracts.js';
import { RecordingLog } from '../recording-log.js';

const SCHEMAS = new URL('../../../../schemas/', import.meta.url);
const AT = '2026-12-03T10:00:00.000Z';
const SHA = 'ab'.repeat(32);

function storedRecord(overrides: Partial<InboundRecord> = {}): InboundRecord {
  return {
    mailboxId: 'X26ABC2',
    messageId: '20261203100000000001_ABCDEF',
    status: 'stored',
    messageType: 'DATA',
    sender: 'X26ABC1',
    workflowId: 'TEST_WORKFLOW',
    fileName: 'results.csv',
    bucket: 'inbound-bucket',
    key: 'inbound/X26ABC2/TEST_WORKFLOW/20261203100000000001_ABCDEF/results.csv',
    size: 139,
    sha256: SHA,
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  } as InboundRecord;
}

/** A publisher over a recording SQS client: what it would have sent. */
function recordingPublisher() {
  const sent: SendMessageCommand[] = [];
  const sqs: Pick<SQSClient, 'send'> = {
    send: async (command: unknown) => {
      sent.push(command as SendMessageCommand);
      return {};
    },
  } as Pick<SQSClient, 'send'>;
  return { publisher: new SqsEventPublisher(sqs, 'https://sqs.local/events.fifo'), sent };
}

describe('event contracts', () => {
  test('the committed JSON Schema files are exactly what the zod schemas generate (npm run schemas)', () => {
    const generated = eventJsonSchemas();
    const committed = readdirSync(SCHEMAS).filter((file) => file.endsWith('.schema.json'));
    assert.deepEqual(committed.sort(), Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) {
      assert.deepEqual(JSON.parse(readFileSync(new URL(file, SCHEMAS), 'utf8')), schema, `${file} is stale`);
    }
  });

  test('every event the pipeline builds meets its contract', () => {
    const events = [
      inboundEvent(storedRecord(), AT),
      inboundEvent(
        storedRecord({ messageType: 'REPORT', report: { code: '14', linkedMessageId: 'M1' } }),
        AT,
      ),
      outboundStatusEvent(transfer({ status: 'received', messageId: undefined }), AT),
      outboundStatusEvent(transfer({ status: 'failed', errorCode: '12', errorText: 'unregistered' }), AT),
    ];
    for (const [eventId, body] of events) assert.doesNotThrow(() => checkEventContract(eventId, body));
  });

  test('every event carries its time as occurredAt; the inbound event keeps receivedAt, equal, for a version', () => {
    const [, inbound] = inboundEvent(storedRecord(), AT);
    const [, status] = outboundStatusEvent(transfer(), AT);
    const parsed = JSON.parse(inbound) as InboundEventV1;
    assert.equal(parsed.occurredAt, AT);
    assert.equal(parsed.receivedAt, AT);
    assert.equal((JSON.parse(status) as { occurredAt: string }).occurredAt, AT);
    const inboundSchema = eventJsonSchemas()[EVENT_CONTRACTS['nhs-mesh-pipeline.inbound'].file]!;
    const properties = inboundSchema.properties as Record<string, { deprecated?: boolean }>;
    assert.equal(properties.receivedAt?.deprecated, true);
  });

  test('names each broken field, and never a value', () => {
    const namesEachField = (error: unknown) =>
      error instanceof EventContractError &&
      ['size', 'sha256', 'key'].every((field) => error.problems.some((p) => p.startsWith(`${field}:`))) &&
      !error.message.includes('secret-name');
    const broken = { key: '', size: -1, sha256: 'secret-name.csv' };
    // Where the event is built, and where a body stored by some other writer is published.
    assert.throws(() => inboundEvent(storedRecord(broken), AT), namesEachField);
    const [eventId, body] = inboundEvent(storedRecord(), AT);
    const brokenBody = JSON.stringify({ ...JSON.parse(body), ...broken });
    assert.throws(() => checkEventContract(eventId, brokenBody), namesEachField);
    assert.throws(() => checkEventContract('x', '{'), /not JSON/);
    assert.throws(() => checkEventContract('x', '{"schema":"other"}'), /names no event/);
    const [, status] = outboundStatusEvent(transfer(), AT);
    assert.throws(() => checkEventContract('another-id', status), /eventId differs/);
  });

  test('the publisher sends an event that meets its contract', async () => {
    const { publisher, sent } = recordingPublisher();
    const [eventId, body] = outboundStatusEvent(transfer({ status: 'accepted', sha256: SHA }), AT);

    await publisher.publish(eventId, body, 'group-1');

    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.input.MessageBody, body);
    assert.equal(sent[0]!.input.MessageDeduplicationId, eventId);
  });

  test('the publisher brings an inbound event left pending by version 0.1 (receivedAt only) up to the contract', async () => {
    const { publisher, sent } = recordingPublisher();
    const [eventId, body] = inboundEvent(storedRecord(), AT);
    const { occurredAt: _dropped, ...older } = JSON.parse(body) as InboundEventV1;

    await publisher.publish(eventId, JSON.stringify(older), 'group-1');

    const published = JSON.parse(sent[0]!.input.MessageBody!) as InboundEventV1;
    assert.equal(published.occurredAt, AT);
    assert.equal(published.receivedAt, AT);
  });

  test('the publisher, as the last guard, refuses a pending body that breaks its contract, and sends nothing', async () => {
    const { publisher, sent } = recordingPublisher();
    const [eventId, body] = outboundStatusEvent(transfer(), AT);
    const broken = JSON.stringify({ ...JSON.parse(body), status: 'nonsense' });

    await assert.rejects(publisher.publish(eventId, broken, 'group-1'), EventContractError);
    assert.equal(sent.length, 0);
  });

  test('an event that breaks its contract fails where it is built: nothing recorded as pending, nothing published', async () => {
    const budget = { invocationId: 'invocation-1', receiveCount: 1, remainingMs: () => 60_000 };
    const writes: unknown[] = [];
    const published: string[] = [];
    const store = {
      update: async (...args: unknown[]) => {
        writes.push(args);
        throw new Error('the state write must not be reached');
      },
      clearPendingEvent: async () => undefined,
    };
    const events = { publish: async (eventId: string) => void published.push(eventId) };
    const metrics: MetricsSink = { add: () => undefined } as unknown as MetricsSink;
    const now = () => new Date(AT);

    const stored = new StoredMessage({
      inbound: store as never,
      inboundEvents: events,
      log: new RecordingLog(),
      metrics,
      now,
    });
    // A stored message with no key: its event could never be published.
    await assert.rejects(
      stored.markStored(storedRecord({ key: undefined }), {}, budget),
      (error: unknown) => error instanceof EventContractError && /key: /.test(error.message),
    );
    const changes = new StatusChanges({ transfers: store as never, statusEvents: events, now });
    await assert.rejects(
      changes.change(transfer({ status: 'sending' }), budget, { size: -1 }),
      (error: unknown) => error instanceof EventContractError && /size: too_small/.test(error.message),
    );
    assert.deepEqual(writes, []);
    assert.deepEqual(published, []);
  });

  test('the JSON Schema files, read by a JSON Schema validator, accept every event the pipeline builds', () => {
    for (const [, body] of [
      inboundEvent(storedRecord(), AT),
      inboundEvent(storedRecord({ messageType: 'REPORT', report: { code: '14' } }), AT),
      outboundStatusEvent(transfer({ status: 'failed', errorCode: '12', errorText: 'unregistered' }), AT),
    ]) {
      assert.doesNotThrow(() => assertMeetsEventContract(JSON.parse(body)));
    }
  });

  test('the JSON Schema validator refuses an event missing a required field, a bad format or an unknown schema', () => {
    const inbound = JSON.parse(inboundEvent(storedRecord(), AT)[1]) as Record<string, unknown>;
    const { messageId: _missing, ...withoutMessageId } = inbound;
    const status = JSON.parse(outboundStatusEvent(transfer(), AT)[1]) as Record<string, unknown>;
    const { occurredAt: _time, ...withoutTime } = status;

    assert.throws(
      () => assertMeetsEventContract(withoutMessageId),
      /schemas\/inbound\.schema\.json: \(event\) must have required property 'messageId'/,
    );
    assert.throws(
      () => assertMeetsEventContract(withoutTime),
      /outbound-status\.schema\.json: .*required property 'occurredAt'/,
    );
    assert.throws(
      () => assertMeetsEventContract({ ...inbound, occurredAt: 'yesterday' }),
      /\/occurredAt must match format "date-time"/,
    );
    assert.throws(() => assertMeetsEventContract({ ...inbound, schema: 'other' }), /no JSON Schema/);
  });
});
