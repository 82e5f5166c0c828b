import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ENV,
  EVENT_RELAY,
  FUNCTIONS,
  QUEUE_URL_ENV,
  QUEUES,
  relayLastAttemptSeconds,
  type FunctionName,
} from '../../shared/wiring/pipeline.js';
import { MAILBOX_FUNCTION_NAMES } from '../../infra/constructs/runtime/mailbox-functions.js';
import { logicalId, synthesize } from './app.js';
import { flatten, type Outputs } from './template-values.js';

const s = synthesize();
// Template JSON is untyped (CDK's toJSON): each assertion names the fields it reads.
const resources = s.functions.toJSON().Resources;
const resourceList: { Type: string; Properties: Record<string, unknown> }[] = Object.values(resources);
const outputs = s.data.toJSON().Outputs as Outputs;
const storage = s.pipeline.storage;
const mailboxes = s.pipeline.mailboxFunctions;
const all = s.pipeline.allFunctions();
const relay = s.pipeline.deploymentFunctions.functions.get('eventRelay')!;
const dataResources = s.data.toJSON().Resources;
const propsOf = (construct: Parameters<typeof logicalId>[0]) => resources[logicalId(construct)].Properties;
const dataRef = (construct: Parameters<typeof logicalId>[0], attribute?: string) =>
  attribute ? `<${logicalId(construct)}.${attribute}>` : `<${logicalId(construct)}>`;

describe('functions', () => {
  test('every mailbox has its own copy of each of the five mailbox functions, and the relay is one for all', () => {
    assert.deepEqual(MAILBOX_FUNCTION_NAMES, [
      'outboundSend',
      'inboundPoll',
      'inboundDownload',
      'deliveryTracker',
      'health',
    ]);
    assert.deepEqual(
      mailboxes.map((m) => [m.mailboxId, [...m.functions.keys()]]),
      ['X26ABC1', 'X26ABC2'].map((id) => [id, MAILBOX_FUNCTION_NAMES]),
    );
    assert.deepEqual([...s.pipeline.deploymentFunctions.functions.keys()], ['eventRelay']);
    s.functions.resourceCountIs('AWS::Lambda::Function', 2 * 5 + 1);
  });

  test('run on Node.js 24 on arm64, sized from the wiring, with source maps', () => {
    for (const f of all) {
      const p = propsOf(f.fn);
      const spec = FUNCTIONS[f.name];
      assert.equal(p.Runtime, 'nodejs24.x');
      assert.deepEqual(p.Architectures, ['arm64']);
      assert.equal(p.MemorySize, spec.memoryMb);
      assert.equal(p.Timeout, spec.timeoutSeconds);
      assert.equal(p.Handler, 'index.handler');
      assert.equal(p.Environment.Variables.NODE_OPTIONS, '--enable-source-maps');
    }
  });

  test('log to their own log group, encrypted with the pipeline key, kept a year', () => {
    for (const f of all) {
      assert.deepEqual(propsOf(f.fn).LoggingConfig, { LogGroup: { Ref: logicalId(f.logGroup) } });
      const group = propsOf(f.logGroup);
      assert.equal(group.RetentionInDays, 365);
      assert.equal(resources[logicalId(f.logGroup)].DeletionPolicy, 'Retain');
      assert.equal(flatten(group.KmsKeyId, outputs), dataRef(storage.key, 'Arn'));
    }
  });

  test('reserve the concurrency the wiring allows: the queue maximum, or one for a schedule', () => {
    for (const f of all) {
      const trigger = FUNCTIONS[f.name].trigger;
      const expected = trigger.kind === 'queue' ? trigger.maxConcurrency : 1;
      assert.equal(propsOf(f.fn).ReservedConcurrentExecutions, expected, `${f.mailboxId} ${f.name}`);
    }
  });
});

describe('environment', () => {
  const env = (mailboxId: string | undefined, name: FunctionName) =>
    propsOf(all.find((f) => f.mailboxId === mailboxId && f.name === name)!.fn).Environment
      .Variables as Record<string, unknown>;

  test('tells each function the MESH environment and only its own mailbox, secret and routes', () => {
    for (const f of s.pipeline.mailboxFunctions.flatMap((m) => [...m.functions.values()])) {
      const variables = env(f.mailboxId, f.name);
      assert.equal(variables[ENV.meshUrl], 'integration');
      const mailboxesJson = JSON.parse(flatten(variables[ENV.mailboxes], outputs)) as unknown[];
      const secret = storage.mailboxes.get(f.mailboxId)!.secret;
      const routes =
        f.mailboxId === 'X26ABC1'
          ? {
              routes: [
                {
                  prefix: 'outbound/X26ABC1/pathology/',
                  to: 'X26ABC2',
                  workflowId: 'PATH_TEST_RESULTS',
                  subject: 'Pathology results',
                  contentType: 'text/csv',
                },
              ],
            }
          : {};
      assert.deepEqual(mailboxesJson, [{ id: f.mailboxId, secretId: dataRef(secret), ...routes }]);
    }
  });

  test('tells the event relay its table and the two event queues, and no MESH, mailbox or bucket', () => {
    const variables = env(undefined, 'eventRelay');
    assert.deepEqual(Object.keys(variables).sort(), [
      ENV.inboundEventsQueueUrl,
      'NODE_OPTIONS',
      ENV.outboundStatusQueueUrl,
      ENV.tableName,
    ]);
    assert.equal(flatten(variables[ENV.tableName], outputs), dataRef(storage.table));
    assert.equal(
      flatten(variables[ENV.inboundEventsQueueUrl], outputs),
      dataRef(storage.sharedQueue('inboundEvents').queue),
    );
    assert.equal(
      flatten(variables[ENV.outboundStatusQueueUrl], outputs),
      dataRef(storage.sharedQueue('outboundStatus').queue),
    );
  });

  test('tells every function that hands events to the relay the relay queue URL', () => {
    const senders = all.filter((f) => FUNCTIONS[f.name].sendsTo.includes('eventRelay'));
    assert.deepEqual([...new Set(senders.map((f) => f.name))].sort(), [
      'deliveryTracker',
      'inboundDownload',
      'outboundSend',
    ]);
    for (const f of senders) {
      assert.equal(
        flatten(env(f.mailboxId, f.name)[ENV.eventRelayQueueUrl], outputs),
        dataRef(storage.sharedQueue('eventRelay').queue),
        `${f.mailboxId} ${f.name}`,
      );
    }
  });

  test('gives each function the queue URLs it sends to, its own mailbox queues for per-mailbox ones', () => {
    for (const f of all) {
      const variables = env(f.mailboxId, f.name);
      const queueVariables = Object.keys(variables).filter((name) => name.endsWith('_QUEUE_URL'));
      const spec = FUNCTIONS[f.name];
      assert.deepEqual(queueVariables.sort(), [...new Set(spec.sendsTo.map((q) => QUEUE_URL_ENV[q]))].sort());
      for (const queue of spec.sendsTo) {
        const expected = dataRef(storage.queue(queue, f.mailboxId).queue);
        assert.equal(flatten(variables[QUEUE_URL_ENV[queue]], outputs), expected, `${f.name} ${queue}`);
      }
    }
  });

  test('names a bucket, the table or the chunk size only to the functions that use them', () => {
    for (const f of all) {
      const variables = env(f.mailboxId, f.name);
      const spec = FUNCTIONS[f.name];
      assert.equal(ENV.meshUrl in variables, f.mailboxId !== undefined, `${f.name} MESH`);
      assert.equal(ENV.mailboxes in variables, f.mailboxId !== undefined, `${f.name} mailboxes`);
      assert.equal(ENV.outboundBucket in variables, spec.readsOutboundBucket === true, `${f.name} outbound`);
      assert.equal(ENV.inboundBucket in variables, spec.writesInboundBucket === true, `${f.name} inbound`);
      assert.equal(ENV.tableName in variables, spec.usesTable === true, `${f.name} table`);
      assert.equal(ENV.chunkBytes in variables, f.name === 'outboundSend', `${f.name} chunk size`);
    }
    assert.equal(env('X26ABC1', 'outboundSend')[ENV.chunkBytes], '20971520');
    assert.equal(
      flatten(env('X26ABC1', 'outboundSend')[ENV.outboundBucket]),
      flatten(s.statelessStack.resolve(storage.bucketNames.outbound)),
    );
  });
});

describe('triggers', () => {
  test('feed each queue consumer from its own mailbox queue (the relay from its shared one), failures one by one', () => {
    const mappings = resourceList.filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    const consumers = all.filter((f) => FUNCTIONS[f.name].trigger.kind === 'queue');
    assert.equal(mappings.length, consumers.length);
    for (const f of consumers) {
      const trigger = FUNCTIONS[f.name].trigger;
      if (trigger.kind !== 'queue') continue;
      const mapping = mappings.find(
        (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: logicalId(f.fn) }),
      );
      assert.ok(mapping, `${f.mailboxId} ${f.name} has a trigger`);
      assert.equal(
        flatten(mapping.Properties.EventSourceArn, outputs),
        dataRef(storage.queue(trigger.queue, f.mailboxId).queue, 'Arn'),
      );
      assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(mapping.Properties.BatchSize, trigger.batchSize);
      assert.deepEqual(mapping.Properties.ScalingConfig, { MaximumConcurrency: trigger.maxConcurrency });
    }
  });

  test('run the poll at each mailbox own interval, tracking every 15 minutes and the health check daily', () => {
    const rules = resourceList.filter((r) => r.Type === 'AWS::Events::Rule');
    const scheduleOf = (f: (typeof all)[number]) =>
      rules.find((r) =>
        (r.Properties.Targets as { Arn: unknown }[]).some(
          (t) => JSON.stringify(t.Arn) === JSON.stringify({ 'Fn::GetAtt': [logicalId(f.fn), 'Arn'] }),
        ),
      )?.Properties.ScheduleExpression;
    // The sample configuration polls X26ABC1 every 5 minutes and X26ABC2 every 10.
    const expected: Record<string, Partial<Record<FunctionName, string>>> = {
      X26ABC1: { inboundPoll: 'rate(5 minutes)', deliveryTracker: 'rate(15 minutes)', health: 'rate(1 day)' },
      X26ABC2: {
        inboundPoll: 'rate(10 minutes)',
        deliveryTracker: 'rate(15 minutes)',
        health: 'rate(1 day)',
      },
    };
    for (const f of all)
      assert.equal(scheduleOf(f), expected[f.mailboxId ?? 'shared']?.[f.name], `${f.mailboxId} ${f.name}`);
    assert.equal(rules.length, 6);
  });

  test('drop a scheduled event that waited past the next run instead of queuing stale runs', () => {
    for (const f of all.filter((x) => x.everyMinutes !== undefined)) {
      s.functions.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(f.fn) },
        MaximumEventAgeInSeconds: Math.min(f.everyMinutes! * 60, 6 * 3600),
        MaximumRetryAttempts: 2,
      });
    }
  });
});

describe('event relay timing', () => {
  const queue = storage.sharedQueue('eventRelay');
  const queueProps = dataResources[logicalId(queue.queue)].Properties;
  const synthesized = {
    delaySeconds: queueProps.DelaySeconds as number,
    visibilityTimeoutSeconds: queueProps.VisibilityTimeout as number,
    maxReceiveCount: queueProps.RedrivePolicy.maxReceiveCount as number,
    functionTimeoutSeconds: propsOf(relay.fn).Timeout as number,
  };

  test('synthesizes the timings of the wiring', () => {
    assert.deepEqual(synthesized, {
      delaySeconds: EVENT_RELAY.delaySeconds,
      visibilityTimeoutSeconds: EVENT_RELAY.visibilityTimeoutSeconds,
      maxReceiveCount: QUEUES.eventRelay.maxReceiveCount,
      functionTimeoutSeconds: EVENT_RELAY.functionTimeoutSeconds,
    });
    // Hidden for longer than the relay can run, so two relays never re-check one record at once.
    assert.ok(synthesized.visibilityTimeoutSeconds > synthesized.functionTimeoutSeconds);
  });

  test('finishes its last attempt inside the FIFO deduplication window, as deployed', () => {
    const last = relayLastAttemptSeconds(synthesized);
    assert.ok(
      last < EVENT_RELAY.deduplicationWindowSeconds,
      `last relay attempt ends ${last} s after the publish; FIFO deduplication lasts ${EVENT_RELAY.deduplicationWindowSeconds} s`,
    );
  });

  test('uses the queue delay: no sender overrides the delay the wiring sets', () => {
    // The senders delay each re-check by EVENT_RELAY_DELAY_SECONDS, default EVENT_RELAY.delaySeconds.
    for (const f of all) {
      const variables = propsOf(f.fn).Environment.Variables as Record<string, unknown>;
      assert.ok(!('EVENT_RELAY_DELAY_SECONDS' in variables), `${f.mailboxId} ${f.name}`);
    }
  });

  test('runs one batch of re-checks at a time per slot, with its own dead-letter queue', () => {
    const trigger = FUNCTIONS.eventRelay.trigger;
    assert.equal(trigger.kind, 'queue');
    assert.equal(trigger.kind === 'queue' && trigger.queue, 'eventRelay');
    assert.equal(QUEUES.eventRelay.fifo, false);
    assert.equal(queueProps.FifoQueue, undefined);
    assert.deepEqual(queueProps.RedrivePolicy.deadLetterTargetArn, {
      'Fn::GetAtt': [logicalId(queue.deadLetterQueue), 'Arn'],
    });
  });
});

describe('outputs', () => {
  test('name what an operator needs after deploying', () => {
    assert.deepEqual(
      Object.keys(s.data.toJSON().Outputs).filter((name) => !name.startsWith('PublishOutput')),
      [
        'OutboundBucketName',
        'InboundBucketName',
        'InboundEventsQueueUrl',
        'OutboundStatusQueueUrl',
        'SecretArnX26ABC1',
        'SecretArnX26ABC2',
      ],
    );
    assert.deepEqual(Object.keys(s.functions.toJSON().Outputs ?? {}), [
      'HealthFunctionX26ABC1',
      'HealthFunctionX26ABC2',
      'AlarmTopicArn',
      'DashboardName',
    ]);
  });
});
