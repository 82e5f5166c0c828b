import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS } from '../../shared/wiring/pipeline.js';
import { logicalId, createTestApp, sampleConfig, synthesize } from './app.js';
import { flatten, type Outputs } from './template-values.js';

const s = synthesize();
const outputs = s.data.toJSON().Outputs as Outputs;
const topicRef = { Ref: logicalId(s.pipeline.alarmTopic) };
const alarms: Record<string, Record<string, unknown>> = Object.fromEntries(
  Object.values(s.functions.findResources('AWS::CloudWatch::Alarm')).map((r) => [
    String(r.Properties.AlarmName).replace('MeshPipelineFunctions-', ''),
    r.Properties,
  ]),
);
const alarm = (name: string) => {
  const found = alarms[name];
  assert.ok(found, `alarm ${name} exists (have: ${Object.keys(alarms).join(', ')})`);
  return found;
};
const dimensions = (props: Record<string, unknown>) =>
  Object.fromEntries(
    (props.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, flatten(d.Value, outputs)]),
  );

describe('alarm topic', () => {
  test('is encrypted with the pipeline key and refuses requests without TLS', () => {
    s.functions.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.objectLike({ 'Fn::GetStackOutput': Match.anyValue() }),
    });
    const key = flatten(
      s.functions.toJSON().Resources[logicalId(s.pipeline.alarmTopic)].Properties.KmsMasterKeyId,
      outputs,
    );
    assert.equal(key, `<${logicalId(s.pipeline.storage.key)}.Arn>`);
    s.functions.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  test('emails the configured address', () => {
    s.functions.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'mesh-oncall@example.nhs.uk',
      TopicArn: topicRef,
    });
  });

  test('is not created when the configuration names an existing topic', () => {
    const config = sampleConfig();
    const topicArn = 'arn:aws:sns:eu-west-2:123456789012:existing-alarms';
    config.alarms = { topicArn };
    const other = createTestApp({ config });
    const template = Template.fromStack(other.statelessStack);

    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [topicArn] });
  });
});

describe('alarms', () => {
  test('all notify the topic and say what they mean and what to do', () => {
    for (const [name, props] of Object.entries(alarms)) {
      assert.deepEqual(props.AlarmActions, [topicRef], name);
      const description = flatten(props.AlarmDescription, outputs);
      assert.match(description, /^WHAT IT MEANS: .+ WHAT TO DO: .+/, name);
      assert.ok(description.length <= 1024, `${name} description fits CloudWatch`);
    }
  });

  test('fire on any message in any dead-letter queue', () => {
    const queues = s.pipeline.storage.allQueues();
    for (const q of queues) {
      const props = alarm(`${q.mailboxId ?? 'shared'}-${q.name}-dead-letters`);
      assert.equal(props.MetricName, 'ApproximateNumberOfMessagesVisible');
      assert.deepEqual(dimensions(props), { QueueName: `<${logicalId(q.pair.deadLetterQueue)}.QueueName>` });
      assert.equal(props.Threshold, 1);
      assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    }
    assert.match(
      flatten(alarm('X26ABC1-send-dead-letters').AlarmDescription, outputs),
      /has NOT reached MESH.*aws sqs start-message-move-task --source-arn <.+\.Arn>/,
    );
  });

  test('fire when the oldest message of a queue is too old: 30 minutes for work, a day for events', () => {
    for (const q of s.pipeline.storage.allQueues()) {
      const props = alarm(`${q.mailboxId ?? 'shared'}-${q.name}-oldest-message`);
      assert.equal(props.MetricName, 'ApproximateAgeOfOldestMessage');
      assert.deepEqual(dimensions(props), { QueueName: `<${logicalId(q.pair.queue)}.QueueName>` });
      assert.equal(props.Threshold, q.mailboxId ? 30 * 60 : 24 * 3600);
    }
  });

  test('fire on errors and throttles of every function', () => {
    for (const m of s.pipeline.mailboxFunctions) {
      for (const f of m.functions.values()) {
        const service = FUNCTIONS[f.name].serviceName;
        for (const [kind, metric] of [
          ['errors', 'Errors'],
          ['throttles', 'Throttles'],
        ]) {
          const props = alarm(`${m.mailboxId}-${service}-${kind}`);
          assert.equal(props.MetricName, metric);
          assert.deepEqual(dimensions(props), { FunctionName: `<${logicalId(f.fn)}>` });
          assert.equal(props.Threshold, 1);
        }
      }
    }
  });

  test('fire on any undeliverable report, from the tracker or the download function', () => {
    const props = alarm('X26ABC1-undeliverable');
    assert.equal(props.Threshold, 1);
    const metrics = props.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: {
        Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: string }[] };
      };
    }[];
    assert.equal(metrics.find((m) => m.Expression)?.Expression, 'FILL(m0, 0) + FILL(m1, 0)');
    const sources = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric);
    assert.deepEqual(
      sources.map((m) => [
        m.Namespace,
        m.MetricName,
        Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value])),
      ]),
      [
        ['NhsMeshPipeline', 'TransfersUndeliverable', { service: 'delivery-tracker', Mailbox: 'X26ABC1' }],
        ['NhsMeshPipeline', 'TransfersUndeliverable', { service: 'inbound-download', Mailbox: 'X26ABC1' }],
      ],
    );
  });

  test('fire when a client certificate has under 30 days left', () => {
    for (const m of ['X26ABC1', 'X26ABC2']) {
      const props = alarm(`${m}-certificate-expires-soon`);
      assert.equal(props.Namespace, 'NhsMeshPipeline');
      assert.equal(props.MetricName, 'CertificateDaysToExpiry');
      assert.deepEqual(dimensions(props), { service: 'health', Mailbox: m });
      assert.equal(props.Statistic, 'Minimum');
      assert.equal(props.ComparisonOperator, 'LessThanThreshold');
      assert.equal(props.Threshold, 30);
    }
  });

  test('fire at once on a failed health check, and stay until a check passes', () => {
    const props = alarm('X26ABC1-health-check-failed');
    assert.equal(props.MetricName, 'HealthCheckFailed');
    assert.deepEqual(dimensions(props), { service: 'health', Mailbox: 'X26ABC1' });
    assert.equal(props.Threshold, 1);
    assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(props.EvaluationPeriods, 1);
    assert.equal(props.TreatMissingData, 'ignore');
  });

  test('fire when no health check has reported for 26 hours', () => {
    const props = alarm('X26ABC2-health-check-missing');
    assert.equal(props.MetricName, 'HealthCheckFailed');
    assert.equal(props.Statistic, 'SampleCount');
    assert.equal(props.Period, 3600);
    assert.equal(props.EvaluationPeriods, 26);
    assert.equal(props.DatapointsToAlarm, 26);
    assert.equal(props.ComparisonOperator, 'LessThanThreshold');
    assert.equal(props.TreatMissingData, 'breaching');
  });

  test('fire when a mailbox that expects traffic has received nothing for its configured hours', () => {
    const props = alarm('X26ABC1-no-inbound-for-24h');
    assert.equal(props.MetricName, 'InboundMessagesStored');
    assert.deepEqual(dimensions(props), { service: 'inbound-download', Mailbox: 'X26ABC1' });
    assert.equal(props.Period, 3600);
    assert.equal(props.EvaluationPeriods, 24);
    assert.equal(props.DatapointsToAlarm, 24);
    assert.equal(props.TreatMissingData, 'breaching');
    // X26ABC2 does not set expectInboundWithinHours.
    assert.ok(!Object.keys(alarms).some((name) => name.startsWith('X26ABC2-no-inbound')));
  });

  test('come to one per queue, two per function and four or five per mailbox', () => {
    assert.equal(Object.keys(alarms).length, 6 * 2 + 10 * 2 + 4 * 2 + 1);
  });
});

describe('dashboard', () => {
  test('shows every alarm state first', () => {
    s.functions.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = flatten(
      Object.values(s.functions.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody,
      outputs,
    );
    const widgets = (JSON.parse(body) as { widgets: { properties: { title: string; alarms?: unknown[] } }[] })
      .widgets;
    assert.equal(widgets[0]?.properties.title, 'Alarms');
    assert.equal(widgets[0]?.properties.alarms?.length, Object.keys(alarms).length);
    assert.ok(widgets.some((w) => w.properties.title === 'X26ABC2 certificate days left'));
  });
});
