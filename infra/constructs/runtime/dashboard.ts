import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  TableWidget,
  type IAlarm,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS } from '../../../shared/observability/metric-names.js';
import { METRICS_NAMESPACE } from '../../../shared/observability/powertools.js';
import { FUNCTIONS } from '../../../shared/wiring/pipeline.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';
import { mailboxQuery } from './alarms.js';
import type { FunctionFleet } from './function-fleet.js';

export interface PipelineDashboardProps {
  readonly storage: MeshPipelineStorage;
  readonly fleet: FunctionFleet;
  readonly alarms: readonly IAlarm[];
}

const PERIOD = Duration.minutes(5);
/** Mailboxes shown per graph: the busiest (or worst) ones. */
const TOP = 10;

/** Per-mailbox metrics, each shown as its top mailboxes. */
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

/**
 * One page for the on-call engineer: alarm states first, then the mailboxes that stand out (Metrics Insights
 * queries grouped by mailbox, top ten of each), then queues and functions. The widgets are fixed: the page looks the
 * same for one mailbox or a thousand, and a mailbox added with the CLI shows up as soon as it has traffic.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 6 }),
    );
    const graphs = [...OUTBOUND, ...INBOUND].map(
      (name) =>
        new GraphWidget({
          title: `${name}: top ${TOP} mailboxes`,
          left: [mailboxQuery(name, 'SUM', PERIOD, TOP)],
          width: 6,
        }),
    );
    this.dashboard.addWidgets(...graphs.slice(0, 4));
    this.dashboard.addWidgets(...graphs.slice(4, 8));
    this.dashboard.addWidgets(
      ...graphs.slice(8),
      new GraphWidget({
        title: `Inbound overdue (1): top ${TOP} mailboxes`,
        left: [mailboxQuery(METRICS.inboundOverdue, 'MAX', PERIOD, TOP)],
        width: 6,
      }),
      new GraphWidget({
        title: `Health check failed (1): top ${TOP} mailboxes`,
        left: [mailboxQuery(METRICS.healthCheckFailed, 'MAX', Duration.hours(1), TOP)],
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      new TableWidget({
        title: `Certificate days left: the ${TOP} soonest`,
        metrics: [mailboxQuery(METRICS.certificateDaysToExpiry, 'MIN', Duration.days(1), TOP)],
        width: 12,
      }),
      new GraphWidget({
        title: 'Events published by the relay (an invocation stopped between publishing and clearing)',
        left: [
          new MathExpression({
            expression: `SELECT SUM(${METRICS.eventsRelayed}) FROM "${METRICS_NAMESPACE}"`,
            usingMetrics: {},
            label: METRICS.eventsRelayed,
            period: PERIOD,
          }),
        ],
        width: 12,
      }),
    );

    const queues = props.storage.allQueues();
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Messages waiting',
        left: queues.map((q) =>
          q.pair.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: q.name }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Oldest message age (s)',
        left: queues.map((q) =>
          q.pair.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, label: q.name }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Dead letters',
        left: queues.map((q) =>
          q.pair.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: q.name }),
        ),
        width: 8,
      }),
    );
    const functions = [...props.fleet.functions.values()].map((f) => ({
      label: FUNCTIONS[f.name].serviceName,
      fn: f.fn,
    }));
    const perFunction = (metric: (f: (typeof functions)[number]) => IMetric) => functions.map(metric);
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: perFunction((f) => f.fn.metricErrors({ period: PERIOD, label: f.label })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function throttles',
        left: perFunction((f) => f.fn.metricThrottles({ period: PERIOD, label: f.label })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function duration p99 (ms)',
        left: perFunction((f) => f.fn.metricDuration({ period: PERIOD, statistic: 'p99', label: f.label })),
        width: 8,
      }),
    );
  }
}
