import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEPLOY_FUNCTIONS,
  ENV,
  EVENT_RELAY,
  FUNCTIONS,
  QUEUES,
  functionEnvironment,
  relayLastAttemptSeconds,
  type DeploymentNames,
  type FunctionName,
} from '../../shared/wiring/pipeline.js';
import { FUNCTION_NAMES } from '../../infra/constructs/runtime/function-fleet.js';
import { SEED_PROPERTIES, SEED_RESOURCE_TYPE } from '../../functions/registry-seed/handler.js';
import { logicalId, synthesize } from './app.js';
import { flatten, type Outputs } from './template-values.js';

const s = synthesize();
// Template JSON is untyped (CDK's toJSON): each assertion names the fields it reads.
const resources = s.functions.toJSON().Resources;
const resourceList: { Type: string; Properties: Record<string, unknown> }[] = Object.values(resources);
const outputs = s.data.toJSON().Outputs as Outputs;
const storage = s.pipeline.storage;
const all = s.pipeline.allFunctions();
const seed = s.pipeline.registrySeed;
const relay = s.pipeline.fleet.get('eventRelay');
const dataResources = s.data.toJSON().Resources;
const propsOf = (construct: Parameters<typeof logicalId>[0]) => resources[logicalId(construct)].Properties;
const dataRef = (construct: Parameters<typeof logicalId>[0], attribute?: string) =>
  attribute ? `<${logicalId(construct)}.${attribute}>` : `<${logicalId(construct)}>`;
const env = (name: FunctionName) =>
  propsOf(s.pipeline.fleet.get(name).fn).Environment.Variables as Record<string, unknown>;

describe('functions', () => {
  test('are one per entry of the wiring, serving every mailbox, plus the registry seeding function', () => {
    assert.deepEqual(FUNCTION_NAMES, Object.keys(FUNCTIONS));
    assert.deepEqual(
      all.map((f) => f.name),
      FUNCTION_NAMES,
    );
    s.functions.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length + 1);
  });

  test('run on Node.js 24 on arm64, sized from the wiring, with source maps', () => {
    const sized = [
      ...all.map((f) => ({ fn: f.fn, spec: FUNCTIONS[f.name] })),
      { fn: seed.fn, spec: DEPLOY_FUNCTIONS.registrySeed },
    ];
    for (const { fn, spec } of sized) {
      const p = propsOf(fn);
      assert.equal(p.Runtime, 'nodejs24.x');
      assert.deepEqual(p.Architectures, ['arm64']);
      assert.equal(p.MemorySize, spec.memoryMb);
      assert.equal(p.Timeout, spec.timeoutSeconds);
      assert.equal(p.Handler, 'index.handler');
      assert.equal(p.Environment.Variables.NODE_OPTIONS, '--enable-source-maps');
    }
  });

  test('log to their own log group, encrypted with the pipeline key, kept a year', () => {
    for (const f of [...all, seed]) {
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
      assert.equal(propsOf(f.fn).ReservedConcurrentExecutions, expected, f.name);
    }
    assert.equal(propsOf(seed.fn).ReservedConcurrentExecutions, 1);
  });
});

describe('environment', () => {
  /** The deployment as the template names it, for the wiring's own functionEnvironment to build expectations. */
  const deployment: DeploymentNames = {
    meshUrl: 'integration',
    tableName: dataRef(storage.table),
    outboundBucket: flatten(s.statelessStack.resolve(storage.bucketNames.outbound)),
    inboundBucket: flatten(s.statelessStack.resolve(storage.bucketNames.inbound)),
    secretPrefix: 'nhs-mesh-pipeline/MeshPipeline/',
    queueUrl: (queue) => dataRef(storage.queue(queue).queue),
  };

  test("is exactly the wiring's functionEnvironment, plus the chunk size for the sender", () => {
    for (const name of FUNCTION_NAMES) {
      const variables = Object.fromEntries(
        Object.entries(env(name)).map(([key, value]) => [key, flatten(value, outputs)]),
      );
      const expected: Record<string, string> = {
        ...functionEnvironment(name, deployment),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      };
      if (name === 'outboundSend') expected[ENV.chunkBytes] = '20971520';
      assert.deepEqual(variables, expected, name);
    }
  });

  test('names no mailbox: mailboxes are read from the registry, not the environment', () => {
    for (const f of [...all, seed]) {
      const text = JSON.stringify(propsOf(f.fn).Environment.Variables);
      assert.doesNotMatch(text, /X26ABC/, f.fn.node.path);
      assert.ok(!('MAILBOXES' in propsOf(f.fn).Environment.Variables), f.fn.node.path);
    }
  });

  test('tells the functions that talk to MESH the environment and the secret prefix, and no other function', () => {
    for (const name of FUNCTION_NAMES) {
      const variables = env(name);
      assert.equal(ENV.meshUrl in variables, FUNCTIONS[name].usesMesh === true, name);
      assert.equal(
        variables[ENV.secretPrefix],
        FUNCTIONS[name].usesMesh ? deployment.secretPrefix : undefined,
        name,
      );
    }
    assert.equal(env('outboundSend')[ENV.meshUrl], 'integration');
  });

  test('tells the event relay its table and queues, and no MESH, secret or bucket', () => {
    assert.deepEqual(Object.keys(env('eventRelay')).sort(), [
      ENV.eventRelayQueueUrl,
      ENV.inboundEventsQueueUrl,
      'NODE_OPTIONS',
      ENV.outboundStatusQueueUrl,
      'POWERTOOLS_LOG_LEVEL',
      ENV.tableName,
    ]);
  });

  test("tells the seeding function the table and the secret prefix, and nothing else: the wiring's", () => {
    const variables = propsOf(seed.fn).Environment.Variables as Record<string, unknown>;
    const flat = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, flatten(v, outputs)]));
    assert.deepEqual(flat, {
      [ENV.tableName]: deployment.tableName,
      [ENV.secretPrefix]: deployment.secretPrefix,
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    assert.deepEqual(flat, {
      ...functionEnvironment('registrySeed', deployment),
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });
});

describe('triggers', () => {
  test('feed each queue consumer from its one queue, failures one by one', () => {
    const mappings = resourceList.filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    const consumers = all.filter((f) => FUNCTIONS[f.name].trigger.kind === 'queue');
    assert.equal(mappings.length, consumers.length);
    for (const f of consumers) {
      const trigger = FUNCTIONS[f.name].trigger;
      if (trigger.kind !== 'queue') continue;
      const mapping = mappings.find(
        (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: logicalId(f.fn) }),
      );
      assert.ok(mapping, `${f.name} has a trigger`);
      assert.equal(
        flatten(mapping.Properties.EventSourceArn, outputs),
        dataRef(storage.queue(trigger.queue).queue, 'Arn'),
      );
      assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(mapping.Properties.BatchSize, trigger.batchSize);
      assert.deepEqual(mapping.Properties.ScalingConfig, { MaximumConcurrency: trigger.maxConcurrency });
    }
  });

  test('run the poll every minute, tracking every 15 minutes and the health check daily, from the wiring', () => {
    const rules = resourceList.filter((r) => r.Type === 'AWS::Events::Rule');
    const scheduleOf = (f: (typeof all)[number]) =>
      rules.find((r) =>
        (r.Properties.Targets as { Arn: unknown }[]).some(
          (t) => JSON.stringify(t.Arn) === JSON.stringify({ 'Fn::GetAtt': [logicalId(f.fn), 'Arn'] }),
        ),
      )?.Properties.ScheduleExpression;
    const expected: Partial<Record<FunctionName, string>> = {
      inboundPoll: 'rate(1 minute)',
      deliveryTracker: 'rate(15 minutes)',
      health: 'rate(1 day)',
    };
    for (const f of all) assert.equal(scheduleOf(f), expected[f.name], f.name);
    assert.equal(rules.length, 3);
    assert.deepEqual(FUNCTIONS.inboundPoll.trigger, { kind: 'schedule', everyMinutes: 1 });
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

describe('registry seeding', () => {
  const resource = resourceList.filter((r) => r.Type === SEED_RESOURCE_TYPE);

  test('is one custom resource, served by the seeding function itself, carrying every configured mailbox', () => {
    assert.equal(resource.length, 1);
    const properties = resource[0]!.Properties;
    assert.deepEqual(properties.ServiceToken, { 'Fn::GetAtt': [logicalId(seed.fn), 'Arn'] });
    assert.deepEqual(Object.keys(properties).sort(), [SEED_PROPERTIES.mailboxes, 'ServiceToken'].sort());
    // Registry settings as the registry names them: minutes become seconds, only non-defaults are written.
    assert.deepEqual(JSON.parse(properties[SEED_PROPERTIES.mailboxes] as string), [
      {
        id: 'X26ABC1',
        routes: [
          {
            prefix: 'outbound/X26ABC1/pathology/',
            to: 'X26ABC2',
            workflowId: 'PATH_TEST_RESULTS',
            subject: 'Pathology results',
            contentType: 'text/csv',
          },
        ],
        expectedInboundHours: 24,
      },
      { id: 'X26ABC2', pollIntervalSeconds: 600 },
    ]);
  });

  test('waits for the function permissions, and is deleted with the stack without touching the registry', () => {
    const [logical, cfn] = Object.entries(resources).find(
      ([, r]) => (r as { Type: string }).Type === SEED_RESOURCE_TYPE,
    )!;
    assert.ok((cfn as { DependsOn: string[] }).DependsOn.includes(logicalId(seed.policy)), logical);
    // Deleting the custom resource only tells the function, which does nothing on Delete (registry-seed.test.ts).
    assert.equal((cfn as { DeletionPolicy: string }).DeletionPolicy, 'Delete');
  });
});

describe('event relay timing', () => {
  const queue = storage.queue('eventRelay');
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
    for (const f of all) assert.ok(!(ENV.eventRelayDelaySeconds in env(f.name)), f.name);
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
  const dataOutputs = s.data.toJSON().Outputs as Record<string, { Value: unknown }>;
  const functionOutputs = s.functions.toJSON().Outputs as Record<string, { Value: unknown }>;

  test('name what an operator and the mesh CLI need, whatever the number of mailboxes', () => {
    assert.deepEqual(
      Object.keys(dataOutputs).filter((name) => !name.startsWith('PublishOutput')),
      [
        'TableName',
        'SecretPrefix',
        'DataKeyArn',
        'OutboundBucketName',
        'InboundBucketName',
        'SendQueueUrl',
        'SendDlqUrl',
        'DownloadQueueUrl',
        'DownloadDlqUrl',
        'InboundEventsQueueUrl',
        'InboundEventsDlqUrl',
        'OutboundStatusQueueUrl',
        'OutboundStatusDlqUrl',
        'EventRelayQueueUrl',
        'EventRelayDlqUrl',
      ],
    );
    assert.deepEqual(Object.keys(functionOutputs), ['HealthFunctionName', 'AlarmTopicArn', 'DashboardName']);
  });

  test('point at the resources they name', () => {
    const value = (id: string) => flatten((dataOutputs[id] ?? functionOutputs[id])!.Value, outputs);
    assert.equal(value('TableName'), dataRef(storage.table));
    assert.equal(value('SecretPrefix'), 'nhs-mesh-pipeline/MeshPipeline/');
    assert.equal(value('DataKeyArn'), dataRef(storage.key, 'Arn'));
    assert.equal(value('OutboundBucketName'), dataRef(storage.outboundBucket));
    assert.equal(value('SendQueueUrl'), dataRef(storage.queue('send').queue));
    assert.equal(value('SendDlqUrl'), dataRef(storage.queue('send').deadLetterQueue));
    assert.equal(value('DownloadDlqUrl'), dataRef(storage.queue('download').deadLetterQueue));
    assert.equal(value('HealthFunctionName'), `<${logicalId(s.pipeline.fleet.get('health').fn)}>`);
  });
});
