import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  SingleValueWidget,
  type IAlarm,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { MAILBOX_DIMENSION, METRICS } from '../../../shared/observability/metric-names.js';
import { METRICS_NAMESPACE } from '../../../shared/observability/powertools.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';
import { mailboxMetric } from './alarms.js';
import type { DeploymentFunctions, MailboxFunctions } from './mailbox-functions.js';

export interface PipelineDashboardProps {
  readonly storage: MeshPipelineStorage;
  readonly mailboxes: readonly MailboxFunctions[];
  readonly deploymentFunctions: DeploymentFunctions;
  readonly alarms: readonly IAlarm[];
}

const PERIOD = Duration.minutes(5);
const OUTBOUND = [
  METRICS.transfersAccepted,
  METRICS.transfersDelivered,
  METRICS.transfersRejected,
  METRICS.transfersFailed,
  METRICS.transfersUndeliverable,
  METRICS.unknownOutcomeResends,
];
const INBOUND = [
  METRICS.inboundMessagesStored,
  METRICS.inboundReports,
  METRICS.inboundPoisoned,
  METRICS.inboundAckFailures,
];

/** One page for the on-call engineer: alarm states first, then each mailbox's traffic and health, then plumbing. */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 6 }),
    );
    for (const mailbox of props.mailboxes) {
      const m = mailbox.mailboxId;
      this.dashboard.addWidgets(
        new GraphWidget({ title: `${m} outbound`, left: OUTBOUND.map((name) => search(name, m)), width: 8 }),
        new GraphWidget({ title: `${m} inbound`, left: INBOUND.map((name) => search(name, m)), width: 8 }),
        new SingleValueWidget({
          title: `${m} certificate days left`,
          metrics: [mailboxMetric(METRICS.certificateDaysToExpiry, 'health', m, Duration.days(1), 'Minimum')],
          width: 4,
        }),
        new GraphWidget({
          title: `${m} health check failed`,
          left: [mailboxMetric(METRICS.healthCheckFailed, 'health', m, Duration.hours(1), 'Maximum')],
          width: 4,
        }),
      );
    }
    const queues = props.storage.allQueues();
    const queueLabel = (q: (typeof queues)[number]) => `${q.mailboxId ?? 'shared'} ${q.name}`;
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Messages waiting',
        left: queues.map((q) =>
          q.pair.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: queueLabel(q) }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Oldest message age (s)',
        left: queues.map((q) =>
          q.pair.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, label: queueLabel(q) }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Dead letters',
        left: queues.map((q) =>
          q.pair.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            label: queueLabel(q),
          }),
        ),
        width: 8,
      }),
    );
    const functions = [
      ...props.mailboxes.flatMap((mb) =>
        [...mb.functions.values()].map((f) => ({ label: `${mb.mailboxId} ${f.name}`, fn: f.fn })),
      ),
      ...[...props.deploymentFunctions.functions.values()].map((f) => ({
        label: `shared ${f.name}`,
        fn: f.fn,
      })),
    ];
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: functions.map((f) => f.fn.metricErrors({ period: PERIOD, label: f.label })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function throttles',
        left: functions.map((f) => f.fn.metricThrottles({ period: PERIOD, label: f.label })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function duration p99 (ms)',
        left: functions.map((f) => f.fn.metricDuration({ period: PERIOD, statistic: 'p99', label: f.label })),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Events published by the relay (an invocation stopped between publishing and clearing)',
        left: [
          new MathExpression({
            expression:
              `SEARCH('{${METRICS_NAMESPACE},${MAILBOX_DIMENSION},service} ` +
              `MetricName="${METRICS.eventsRelayed}"', 'Sum', ${PERIOD.toSeconds()})`,
            usingMetrics: {},
            label: METRICS.eventsRelayed,
            period: PERIOD,
          }),
        ],
        width: 24,
      }),
    );
  }
}

/** A metric of one mailbox from whichever function emits it. */
function search(metricName: string, mailboxId: string): IMetric {
  return new MathExpression({
    expression:
      `SEARCH('{${METRICS_NAMESPACE},${MAILBOX_DIMENSION},service} ` +
      `MetricName="${metricName}" ${MAILBOX_DIMENSION}="${mailboxId}"', 'Sum', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    label: metricName,
    period: PERIOD,
  });
}
