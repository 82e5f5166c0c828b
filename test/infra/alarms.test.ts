import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MAX_CONTRIBUTORS, mailboxQuerySql } from '../../infra/constructs/runtime/alarms.js';
import { METRICS, METRIC_EMITTERS } from '../../shared/observability/metric-names.js';
import { FUNCTIONS, QUEUES } from '../../shared/wiring/pipeline.js';
import { logicalId, createTestApp, sampleConfig, synthesize } from './app.js';
import { flatten, type Outputs } from './template-values.js';

const s = synthesize();
const outputs = s.data.toJSON().Outputs as Outputs;
const topicRef = { Ref: logicalId(s.pipeline.alarmTopic) };
const PREFIX = 'MeshPipelineFunctions-';
const alarms: Record<string, Record<string, unknown>> = Object.fromEntries(
  Object.values(s.functions.findResources('AWS::CloudWatch::Alarm')).map((r) => [
    String(r.Properties.AlarmName).replace(PREFIX, ''),
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
const description = (props: Record<string, unknown>) => flatten(props.AlarmDescription, outputs);
/** The one query of a Metrics Insights alarm, with its period. */
const query = (props: Record<string, unknown>) => {
  const metrics = props.Metrics as {
    Id: string;
    Expression?: string;
    Period?: number;
    ReturnData?: boolean;
  }[];
  assert.equal(metrics.length, 1);
  assert.equal(metrics[0]!.ReturnData, true);
  return { sql: metrics[0]!.Expression, period: metrics[0]!.Period };
};

/** The per-mailbox alarms: each a Metrics Insights query grouped by mailbox. */
const MAILBOX_ALARMS = [
  'transfers-failed',
  'unknown-outcome-resends',
  'undeliverable',
  'inbound-ack-failures',
  'certificate-expires-soon',
  'health-check-failed',
  'inbound-overdue',
];

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
      const text = description(props);
      assert.match(text, /^WHAT IT MEANS: .+ WHAT TO DO: .+/, name);
      assert.ok(text.length <= 1024, `${name} description fits CloudWatch`);
      assert.ok(!text.endsWith('...'), `${name} description is not cut short`);
    }
  });

  test('name no mailbox: one alarm of each kind serves every mailbox', () => {
    for (const [name, props] of Object.entries(alarms))
      assert.doesNotMatch(JSON.stringify(props), /X26ABC/, name);
  });

  test('fire on any message in any dead-letter queue', () => {
    for (const q of s.pipeline.storage.allQueues()) {
      const props = alarm(`${q.name}-dead-letters`);
      assert.equal(props.MetricName, 'ApproximateNumberOfMessagesVisible');
      assert.deepEqual(dimensions(props), { QueueName: `<${logicalId(q.pair.deadLetterQueue)}.QueueName>` });
      assert.equal(props.Threshold, 1);
      assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    }
  });

  test('on the send DLQ say the transfer stalled part-sent, and to redrive it, never to upload again', () => {
    const text = description(alarm('send-dead-letters'));
    // A transfer stalls after some chunks went as well as before any: "has not reached MESH" would be untrue.
    assert.doesNotMatch(text, /has NOT reached MESH/i);
    assert.match(text, /some of its chunks may already have reached MESH/);
    assert.match(text, /"stalled"/);
    assert.match(text, /outbound\/\{MAILBOX\}/);
    assert.match(text, /errorText/);
    assert.match(text, /redrive the DLQ: aws sqs start-message-move-task --source-arn <.+\.Arn>/);
    assert.match(
      text,
      /Never upload the file again: a new upload is a new transfer and would send the message twice/,
    );
  });

  test('on the event-relay DLQ say events may be waiting, to redrive it, and that consumers drop repeats', () => {
    const props = alarm('eventRelay-dead-letters');
    assert.deepEqual(dimensions(props), {
      QueueName: `<${logicalId(s.pipeline.storage.queue('eventRelay').deadLetterQueue)}.QueueName>`,
    });
    const text = description(props);
    assert.match(text, /events may be waiting/);
    assert.match(text, /redrive the relay DLQ: aws sqs start-message-move-task --source-arn <.+\.Arn>/);
    assert.match(text, /more than five minutes .* may repeat an event/);
    assert.match(text, /consumers drop repeats by eventId/);
  });

  test('fire when the oldest message of a queue is too old: 30 minutes for work, a day for events', () => {
    assert.ok(QUEUES.eventRelay.consumer, 'the relay queue is work the pipeline consumes');
    for (const q of s.pipeline.storage.allQueues()) {
      const props = alarm(`${q.name}-oldest-message`);
      assert.equal(props.MetricName, 'ApproximateAgeOfOldestMessage');
      assert.deepEqual(dimensions(props), { QueueName: `<${logicalId(q.pair.queue)}.QueueName>` });
      // The pipeline's own work (send, download, relay re-checks) alarms sooner than events for your consumers.
      assert.equal(props.Threshold, QUEUES[q.name].consumer ? 30 * 60 : 24 * 3600, q.name);
    }
  });

  test('fire on errors and throttles of every function', () => {
    for (const f of s.pipeline.allFunctions()) {
      const service = FUNCTIONS[f.name].serviceName;
      for (const [kind, metric] of [
        ['errors', 'Errors'],
        ['throttles', 'Throttles'],
      ]) {
        const props = alarm(`${service}-${kind}`);
        assert.equal(props.MetricName, metric);
        assert.deepEqual(dimensions(props), { FunctionName: `<${logicalId(f.fn)}>` });
        assert.equal(props.Threshold, 1);
      }
    }
  });

  test('fire when a scheduled function stops running: 15 minutes for the poll, 45 for tracking, 26 hours for health', () => {
    const expected = {
      'inbound-poll-not-running': { Period: 300, EvaluationPeriods: 3 },
      'delivery-tracker-not-running': { Period: 300, EvaluationPeriods: 9 },
      'health-not-running': { Period: 3600, EvaluationPeriods: 26 },
    };
    for (const [name, window] of Object.entries(expected)) {
      const props = alarm(name);
      assert.equal(props.MetricName, 'Invocations', name);
      assert.equal(props.Statistic, 'Sum', name);
      assert.equal(props.Period, window.Period, name);
      assert.equal(props.EvaluationPeriods, window.EvaluationPeriods, name);
      assert.equal(props.DatapointsToAlarm, window.EvaluationPeriods, name);
      assert.equal(props.ComparisonOperator, 'LessThanThreshold', name);
      assert.equal(props.Threshold, 1, name);
      assert.equal(props.TreatMissingData, 'breaching', name);
      assert.match(description(props), /aws lambda invoke --function-name <.+> \/dev\/stdout/, name);
    }
  });

  test('watch each mailbox with one Metrics Insights query grouped by mailbox, worst mailboxes first', () => {
    for (const name of MAILBOX_ALARMS) {
      const props = alarm(name);
      const { sql } = query(props);
      assert.match(
        sql ?? '',
        /^SELECT (SUM|MAX|MIN)\(\w+\) FROM SCHEMA\("NhsMeshPipeline", Mailbox, service\) GROUP BY Mailbox ORDER BY (SUM|MAX|MIN)\(\) (DESC|ASC) LIMIT 500$/,
        name,
      );
      assert.equal(props.MetricName, undefined, name);
      // The notification names the mailbox: its contributor.
      assert.match(
        description(props),
        new RegExp(
          `Mailbox attribute of the contributor .*describe-alarm-contributors --alarm-name ${PREFIX}${name}`,
        ),
        name,
      );
    }
    assert.equal(MAX_CONTRIBUTORS, 500);
  });

  test('fire on any failed transfer of a mailbox, and say a re-upload is safe', () => {
    const props = alarm('transfers-failed');
    assert.deepEqual(query(props), { sql: mailboxQuerySql(METRICS.transfersFailed, 'SUM'), period: 300 });
    assert.deepEqual(METRIC_EMITTERS.transfersFailed, ['outboundSend']);
    assert.equal(props.Threshold, 1);
    assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(props.EvaluationPeriods, 1);
    assert.equal(props.TreatMissingData, 'notBreaching');
    const text = description(props);
    assert.match(text, /NOT accepted/);
    assert.match(text, /password rotation/);
    assert.match(text, /upload each failed file again: that is safe/);
  });

  test('fire on any resend after an unknown outcome, and say to check MESH tracking by local id', () => {
    const props = alarm('unknown-outcome-resends');
    assert.deepEqual(query(props), {
      sql: mailboxQuerySql(METRICS.unknownOutcomeResends, 'SUM'),
      period: 300,
    });
    assert.equal(props.Threshold, 1);
    assert.equal(props.TreatMissingData, 'notBreaching');
    const text = description(props);
    assert.match(text, /MESH tracking for that local id/);
    assert.match(text, /tell the recipient/);
  });

  test('fire when acknowledgements keep failing for three five-minute periods in a row', () => {
    const props = alarm('inbound-ack-failures');
    assert.deepEqual(query(props), { sql: mailboxQuerySql(METRICS.inboundAckFailures, 'SUM'), period: 300 });
    assert.equal(props.Threshold, 1);
    assert.equal(props.EvaluationPeriods, 3);
    assert.equal(props.DatapointsToAlarm, 3);
    assert.equal(props.TreatMissingData, 'notBreaching');
    const text = description(props);
    assert.match(text, /already stored in the inbound bucket and announced/);
    assert.match(text, /poller/);
    assert.match(text, /credentials/);
  });

  test('fire on any undeliverable report, summed over the functions that report it', () => {
    const props = alarm('undeliverable');
    assert.deepEqual(METRIC_EMITTERS.transfersUndeliverable, ['deliveryTracker', 'inboundDownload']);
    // No service filter: the query sums the metric over every function that publishes it.
    assert.deepEqual(query(props), {
      sql: mailboxQuerySql(METRICS.transfersUndeliverable, 'SUM'),
      period: 300,
    });
    assert.doesNotMatch(query(props).sql ?? '', /WHERE/);
  });

  test('fire when a client certificate has under 30 days left, lowest first', () => {
    const props = alarm('certificate-expires-soon');
    assert.deepEqual(query(props), {
      sql:
        'SELECT MIN(CertificateDaysToExpiry) FROM SCHEMA("NhsMeshPipeline", Mailbox, service) GROUP BY Mailbox ' +
        'ORDER BY MIN() ASC LIMIT 500',
      period: 3600,
    });
    assert.equal(props.ComparisonOperator, 'LessThanThreshold');
    assert.equal(props.Threshold, 30);
    assert.equal(props.TreatMissingData, 'ignore');
    assert.match(description(props), /mesh mailbox set-credentials/);
  });

  test('fire at once on a failed health check, and stay until a check passes', () => {
    const props = alarm('health-check-failed');
    assert.deepEqual(query(props), { sql: mailboxQuerySql(METRICS.healthCheckFailed, 'MAX'), period: 3600 });
    assert.equal(props.Threshold, 1);
    assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(props.EvaluationPeriods, 1);
    assert.equal(props.TreatMissingData, 'ignore');
  });

  test("fire when a mailbox has had no inbound message for longer than its registry's window (InboundOverdue)", () => {
    const props = alarm('inbound-overdue');
    assert.equal(METRICS.inboundOverdue, 'InboundOverdue');
    assert.deepEqual(query(props), {
      sql:
        'SELECT MAX(InboundOverdue) FROM SCHEMA("NhsMeshPipeline", Mailbox, service) GROUP BY Mailbox ' +
        'ORDER BY MAX() DESC LIMIT 500',
      period: 300,
    });
    assert.equal(props.Threshold, 1);
    assert.equal(props.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(props.TreatMissingData, 'ignore');
    assert.match(description(props), /expectedInboundHours/);
  });

  test('come to a fixed number: two per queue, two per function, one per schedule and seven for mailboxes', () => {
    const queues = s.pipeline.storage.allQueues().length;
    const functions = s.pipeline.allFunctions();
    const schedules = functions.filter((f) => f.everyMinutes !== undefined).length;
    assert.equal(queues, Object.keys(QUEUES).length);
    assert.equal(functions.length, Object.keys(FUNCTIONS).length);
    assert.equal(
      Object.keys(alarms).length,
      queues * 2 + functions.length * 2 + schedules + MAILBOX_ALARMS.length,
    );
  });
});

describe('dashboard', () => {
  const body = flatten(
    Object.values(s.functions.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody,
    outputs,
  );
  const widgets = (
    JSON.parse(body) as {
      widgets: { properties: { title: string; alarms?: unknown[]; metrics?: unknown[][] } }[];
    }
  ).widgets;

  test('shows every alarm state first', () => {
    s.functions.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    assert.equal(widgets[0]?.properties.title, 'Alarms');
    assert.equal(widgets[0]?.properties.alarms?.length, Object.keys(alarms).length);
  });

  test('shows the mailboxes that stand out with Metrics Insights queries, and names no mailbox', () => {
    assert.doesNotMatch(body, /X26ABC/);
    const queries = widgets.flatMap((w) =>
      (w.properties.metrics ?? []).flatMap((m) =>
        m.filter(
          (part): part is { expression: string } =>
            typeof part === 'object' && part !== null && 'expression' in part,
        ),
      ),
    );
    const grouped = queries.filter((q) => q.expression.includes('GROUP BY Mailbox'));
    assert.ok(grouped.length >= 10, `${grouped.length} per-mailbox graphs`);
    for (const q of grouped) assert.match(q.expression, /LIMIT 10$/);
    assert.ok(widgets.some((w) => w.properties.title.startsWith('Certificate days left')));
  });
});
