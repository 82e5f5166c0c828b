import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { METRIC_EMITTERS } from '../../shared/observability/metric-names.js';
import { FUNCTIONS, QUEUES } from '../../shared/wiring/pipeline.js';
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
      assert.ok(!description.endsWith('...'), `${name} description is not cut short`);
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
  });

  test('on the send DLQ say the transfer stalled part-sent, and to redrive it, never to upload again', () => {
    const text = flatten(alarm('X26ABC1-send-dead-letters').AlarmDescription, outputs);
    // A transfer stalls after some chunks went as well as before any: "has not reached MESH" would be untrue.
    assert.doesNotMatch(text, /has NOT reached MESH/i);
    assert.match(text, /some of its chunks may already have reached MESH/);
    assert.match(text, /"stalled"/);
    assert.match(text, /errorText/);
    assert.match(text, /redrive the DLQ: aws sqs start-message-move-task --source-arn <.+\.Arn>/);
    assert.match(
      text,
      /Never upload the file again: a new upload is a new transfer and would send the message twice/,
    );
  });

  test('on the event-relay DLQ say events may be waiting, to redrive it, and that consumers drop repeats', () => {
    const props = alarm('shared-eventRelay-dead-letters');
    assert.equal(props.MetricName, 'ApproximateNumberOfMessagesVisible');
    assert.deepEqual(dimensions(props), {
      QueueName: `<${logicalId(s.pipeline.storage.sharedQueue('eventRelay').deadLetterQueue)}.QueueName>`,
    });
    assert.equal(props.Threshold, 1);
    assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    const text = flatten(props.AlarmDescription, outputs);
    assert.match(text, /events may be waiting/);
    assert.match(text, /redrive the relay DLQ: aws sqs start-message-move-task --source-arn <.+\.Arn>/);
    assert.match(text, /more than five minutes .* may repeat an event/);
    assert.match(text, /consumers drop repeats by eventId/);
  });

  test('fire when the oldest message of a queue is too old: 30 minutes for work, a day for events', () => {
    assert.ok(QUEUES.eventRelay.consumer, 'the relay queue is work the pipeline consumes');
    for (const q of s.pipeline.storage.allQueues()) {
      const props = alarm(`${q.mailboxId ?? 'shared'}-${q.name}-oldest-message`);
      assert.equal(props.MetricName, 'ApproximateAgeOfOldestMessage');
      assert.deepEqual(dimensions(props), { QueueName: `<${logicalId(q.pair.queue)}.QueueName>` });
      // The pipeline's own work (send, download, relay re-checks) alarms sooner than events for your consumers.
      assert.equal(props.Threshold, QUEUES[q.name].consumer ? 30 * 60 : 24 * 3600, q.name);
    }
  });

  test('fire on errors and throttles of every function, the event relay included', () => {
    const all = s.pipeline.allFunctions();
    assert.ok(all.some((f) => f.name === 'eventRelay'));
    for (const f of all) {
      const service = FUNCTIONS[f.name].serviceName;
      for (const [kind, metric] of [
        ['errors', 'Errors'],
        ['throttles', 'Throttles'],
      ]) {
        const props = alarm(`${f.mailboxId ?? 'shared'}-${service}-${kind}`);
        assert.equal(props.MetricName, metric);
        assert.deepEqual(dimensions(props), { FunctionName: `<${logicalId(f.fn)}>` });
        assert.equal(props.Threshold, 1);
      }
    }
  });

  test('fire on any failed transfer of a mailbox, from the function that emits it, and say a re-upload is safe', () => {
    for (const m of ['X26ABC1', 'X26ABC2']) {
      const props = alarm(`${m}-transfers-failed`);
      assert.deepEqual(METRIC_EMITTERS.transfersFailed, ['outboundSend']);
      assert.equal(props.Namespace, 'NhsMeshPipeline');
      assert.equal(props.MetricName, 'TransfersFailed');
      assert.deepEqual(dimensions(props), { service: 'outbound-send', Mailbox: m });
      assert.equal(props.Statistic, 'Sum');
      assert.equal(props.Period, 300);
      assert.equal(props.Threshold, 1);
      assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(props.EvaluationPeriods, 1);
      assert.equal(props.TreatMissingData, 'notBreaching');
      const text = flatten(props.AlarmDescription, outputs);
      assert.match(text, /NOT accepted/);
      assert.match(text, /password rotation/);
      assert.match(text, /upload each failed file again: that is safe/);
    }
  });

  test('fire on any resend after an unknown outcome, and say to check MESH tracking by local id', () => {
    for (const m of ['X26ABC1', 'X26ABC2']) {
      const props = alarm(`${m}-unknown-outcome-resends`);
      assert.deepEqual(METRIC_EMITTERS.unknownOutcomeResends, ['outboundSend']);
      assert.equal(props.MetricName, 'UnknownOutcomeResends');
      assert.deepEqual(dimensions(props), { service: 'outbound-send', Mailbox: m });
      assert.equal(props.Statistic, 'Sum');
      assert.equal(props.Threshold, 1);
      assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(props.TreatMissingData, 'notBreaching');
      const text = flatten(props.AlarmDescription, outputs);
      assert.match(text, /MESH tracking for that local id/);
      assert.match(text, /tell the recipient/);
    }
  });

  test('fire when acknowledgements keep failing for three five-minute periods in a row', () => {
    for (const m of ['X26ABC1', 'X26ABC2']) {
      const props = alarm(`${m}-inbound-ack-failures`);
      assert.deepEqual(METRIC_EMITTERS.inboundAckFailures, ['inboundDownload']);
      assert.equal(props.MetricName, 'InboundAckFailures');
      assert.deepEqual(dimensions(props), { service: 'inbound-download', Mailbox: m });
      assert.equal(props.Statistic, 'Sum');
      assert.equal(props.Period, 300);
      assert.equal(props.Threshold, 1);
      assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(props.EvaluationPeriods, 3);
      assert.equal(props.DatapointsToAlarm, 3);
      assert.equal(props.TreatMissingData, 'notBreaching');
      const text = flatten(props.AlarmDescription, outputs);
      assert.match(text, /already stored in the inbound bucket and announced/);
      assert.match(text, /poller/);
      assert.match(text, /credentials/);
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

  test('come to two per queue, two per function and seven or eight per mailbox', () => {
    const queues = s.pipeline.storage.allQueues().length;
    const functions = s.pipeline.allFunctions().length;
    assert.equal(queues, 7);
    assert.equal(functions, 11);
    assert.equal(Object.keys(alarms).length, queues * 2 + functions * 2 + 7 * 2 + 1);
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
