import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CERTIFICATE_WARNING_DAYS } from '../../../shared/health/certificate.js';
import { MAILBOX_DIMENSION, METRICS } from '../../../shared/observability/metric-names.js';
import { METRICS_NAMESPACE } from '../../../shared/observability/powertools.js';
import { FUNCTIONS, QUEUES } from '../../../shared/wiring/pipeline.js';
import type { MeshPipelineStorage, PipelineQueue } from '../storage/pipeline-storage.js';
import {
  CERTIFICATE_MEANS,
  CERTIFICATE_TODO,
  DEAD_LETTER_MEANS,
  DEAD_LETTER_TODO,
  ERRORS_TODO,
  FUNCTION_IMPACT,
  HEALTH_FAILED_MEANS,
  HEALTH_FAILED_TODO,
  INBOUND_ACK_FAILURES_MEANS,
  INBOUND_ACK_FAILURES_TODO,
  INBOUND_OVERDUE_MEANS,
  INBOUND_OVERDUE_TODO,
  NOT_RUNNING_MEANS,
  NOT_RUNNING_TODO,
  QUEUE_AGE_MEANS,
  QUEUE_AGE_TODO,
  THROTTLES_TODO,
  TRANSFERS_FAILED_MEANS,
  TRANSFERS_FAILED_TODO,
  UNDELIVERABLE_MEANS,
  UNDELIVERABLE_TODO,
  UNKNOWN_OUTCOME_RESENDS_MEANS,
  UNKNOWN_OUTCOME_RESENDS_TODO,
  describeAlarm,
  whichMailbox,
} from './alarm-texts.js';
import type { FunctionFleet, PipelineFunction } from './function-fleet.js';

export interface PipelineAlarmsProps {
  readonly topic: ITopic;
  readonly storage: MeshPipelineStorage;
  readonly fleet: FunctionFleet;
  readonly workQueueAgeMinutes: number;
  readonly eventQueueAgeMinutes: number;
}

interface AlarmSpec {
  /** Short, unique, readable: the end of the alarm name, and its construct id. */
  readonly name: string;
  readonly metric: IMetric;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly missing: TreatMissingData;
  readonly evaluationPeriods?: number;
  readonly means: string;
  readonly todo: string;
}

/** A Metrics Insights aggregate, and which end of it is the bad one (for ORDER BY). */
type Aggregate = 'SUM' | 'MAX' | 'MIN';

const FIVE_MINUTES = Duration.minutes(5);
const HOUR = Duration.hours(1);
/** A scheduled function is alarmed on throttles only when runs keep overlapping for this many periods. */
const SCHEDULED_THROTTLE_PERIODS = 3;
/**
 * Acknowledgement failures alarm only when they last this many five-minute periods: one failure is retried at
 * once, and the message is already stored and announced.
 */
const ACK_FAILURE_PERIODS = 3;
/**
 * A Metrics Insights query returns at most 500 time series; ordered with the breaching end first, the mailboxes
 * that matter are the ones returned, however many mailboxes the deployment has.
 */
export const MAX_CONTRIBUTORS = 500;

/**
 * Every alarm of the pipeline, each sent to the topic with a description an on-call engineer can act on. Their
 * number is fixed: two per queue, two per function, one for each scheduled function that stops running, and one
 * per kind of mailbox trouble. Each mailbox alarm is a Metrics Insights query grouped by mailbox, so it fires for
 * each mailbox separately (a contributor per mailbox, named in the notification) with no resource per mailbox.
 */
export class PipelineAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly topic: ITopic;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    this.prefix = Stack.of(this).stackName;
    for (const queue of props.storage.allQueues()) this.queueAlarms(queue, props);
    for (const fn of props.fleet.functions.values()) this.functionAlarms(fn);
    this.mailboxAlarms(props.fleet);
  }

  /** The full name of an alarm of this construct. */
  alarmName(name: string): string {
    return `${this.prefix}-${name}`;
  }

  private queueAlarms(queue: PipelineQueue, props: PipelineAlarmsProps): void {
    const spec = QUEUES[queue.name];
    const dlq = queue.pair.deadLetterQueue;
    this.add({
      name: `${queue.name}-dead-letters`,
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: DEAD_LETTER_MEANS[queue.name](spec.maxReceiveCount),
      todo: DEAD_LETTER_TODO[queue.name](dlq.queueArn),
    });
    const minutes = spec.consumer ? props.workQueueAgeMinutes : props.eventQueueAgeMinutes;
    this.add({
      name: `${queue.name}-oldest-message`,
      metric: queue.pair.queue.metricApproximateAgeOfOldestMessage({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      threshold: minutes * 60,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: QUEUE_AGE_MEANS[queue.name](minutes),
      todo: QUEUE_AGE_TODO[queue.name],
    });
  }

  private functionAlarms(f: PipelineFunction): void {
    const service = FUNCTIONS[f.name].serviceName;
    this.add({
      name: `${service}-errors`,
      metric: f.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: `The ${service} function failed (an unhandled error or a timeout). ${FUNCTION_IMPACT[f.name]}`,
      todo: ERRORS_TODO,
    });
    const scheduled = f.everyMinutes !== undefined;
    this.add({
      name: `${service}-throttles`,
      metric: f.fn.metricThrottles({
        period: scheduled ? Duration.minutes(15) : FIVE_MINUTES,
        statistic: 'Sum',
      }),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      evaluationPeriods: scheduled ? SCHEDULED_THROTTLE_PERIODS : 1,
      means:
        `Lambda refused to run the ${service} function` +
        (scheduled ? ' for 45 minutes in a row.' : '.') +
        ` ${FUNCTION_IMPACT[f.name]}`,
      todo: THROTTLES_TODO,
    });
    if (f.everyMinutes !== undefined) {
      const { period, periods } = silenceWindow(f.everyMinutes);
      this.add({
        name: `${service}-not-running`,
        metric: f.fn.metricInvocations({ period, statistic: 'Sum' }),
        threshold: 1,
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: periods,
        // No invocation at all is exactly what this alarm is for.
        missing: TreatMissingData.BREACHING,
        means: NOT_RUNNING_MEANS(f.name, service, period.toMinutes() * periods),
        todo: `${NOT_RUNNING_TODO}${f.fn.functionName} /dev/stdout`,
      });
    }
  }

  private mailboxAlarms(fleet: FunctionFleet): void {
    const invokeHealth = `aws lambda invoke --function-name ${fleet.get('health').fn.functionName} /dev/stdout`;
    const counts = {
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Counts are published only when something happened: no data is no trouble.
      missing: TreatMissingData.NOT_BREACHING,
    };
    this.addPerMailbox({
      ...counts,
      name: 'transfers-failed',
      metric: mailboxQuery(METRICS.transfersFailed, 'SUM', FIVE_MINUTES),
      means: TRANSFERS_FAILED_MEANS,
      todo: TRANSFERS_FAILED_TODO,
    });
    this.addPerMailbox({
      ...counts,
      name: 'unknown-outcome-resends',
      metric: mailboxQuery(METRICS.unknownOutcomeResends, 'SUM', FIVE_MINUTES),
      means: UNKNOWN_OUTCOME_RESENDS_MEANS,
      todo: UNKNOWN_OUTCOME_RESENDS_TODO,
    });
    this.addPerMailbox({
      ...counts,
      name: 'undeliverable',
      // Whichever function learns it (the tracker, or the download function from a MESH report) counts it.
      metric: mailboxQuery(METRICS.transfersUndeliverable, 'SUM', FIVE_MINUTES),
      means: UNDELIVERABLE_MEANS,
      todo: UNDELIVERABLE_TODO,
    });
    this.addPerMailbox({
      ...counts,
      name: 'inbound-ack-failures',
      metric: mailboxQuery(METRICS.inboundAckFailures, 'SUM', FIVE_MINUTES),
      // A period without failures breaks the run: the alarm is for acknowledgements that keep failing.
      evaluationPeriods: ACK_FAILURE_PERIODS,
      means: INBOUND_ACK_FAILURES_MEANS(ACK_FAILURE_PERIODS * FIVE_MINUTES.toMinutes()),
      todo: INBOUND_ACK_FAILURES_TODO,
    });
    this.addPerMailbox({
      name: 'certificate-expires-soon',
      metric: mailboxQuery(METRICS.certificateDaysToExpiry, 'MIN', HOUR),
      threshold: CERTIFICATE_WARNING_DAYS,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      // Published once a day: keep the state between checks rather than flapping to OK.
      missing: TreatMissingData.IGNORE,
      means: CERTIFICATE_MEANS(CERTIFICATE_WARNING_DAYS),
      todo: CERTIFICATE_TODO(invokeHealth),
    });
    this.addPerMailbox({
      name: 'health-check-failed',
      metric: mailboxQuery(METRICS.healthCheckFailed, 'MAX', HOUR),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Stays in alarm until a check passes (every check publishes 0 or 1).
      missing: TreatMissingData.IGNORE,
      means: HEALTH_FAILED_MEANS,
      todo: HEALTH_FAILED_TODO(invokeHealth),
    });
    this.addPerMailbox({
      name: 'inbound-overdue',
      // The poller publishes 1 or 0 at each poll of a mailbox that has a window (registry expectedInboundHours).
      metric: mailboxQuery(METRICS.inboundOverdue, 'MAX', FIVE_MINUTES),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // A mailbox polled less often than every five minutes keeps its state between polls.
      missing: TreatMissingData.IGNORE,
      means: INBOUND_OVERDUE_MEANS,
      todo: INBOUND_OVERDUE_TODO,
    });
  }

  private addPerMailbox(spec: AlarmSpec): void {
    this.add({ ...spec, means: `${spec.means} ${whichMailbox(this.alarmName(spec.name))}` });
  }

  private add(spec: AlarmSpec): void {
    const evaluationPeriods = spec.evaluationPeriods ?? 1;
    const alarm = new Alarm(this, spec.name, {
      alarmName: this.alarmName(spec.name),
      alarmDescription: describeAlarm(spec.means, spec.todo),
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      treatMissingData: spec.missing,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

/**
 * One metric of every mailbox, one time series per mailbox: the metrics the functions publish with the `service`
 * and `Mailbox` dimensions, summed over the functions that publish it. The worst mailboxes come first, so they are
 * the ones returned when more than MAX_CONTRIBUTORS mailboxes have data.
 */
export function mailboxQuerySql(metricName: string, aggregate: Aggregate, limit = MAX_CONTRIBUTORS): string {
  const order = aggregate === 'MIN' ? 'ASC' : 'DESC';
  return (
    `SELECT ${aggregate}(${metricName}) FROM SCHEMA("${METRICS_NAMESPACE}", ${MAILBOX_DIMENSION}, service) ` +
    `GROUP BY ${MAILBOX_DIMENSION} ORDER BY ${aggregate}() ${order} LIMIT ${limit}`
  );
}

/** A Metrics Insights query as a metric an alarm or a graph can use. */
export function mailboxQuery(
  metricName: string,
  aggregate: Aggregate,
  period: Duration,
  limit = MAX_CONTRIBUTORS,
): MathExpression {
  return new MathExpression({
    expression: mailboxQuerySql(metricName, aggregate, limit),
    usingMetrics: {},
    label: metricName,
    period,
  });
}

/**
 * How long without a single run before a scheduled function is alarmed: three intervals for frequent schedules
 * (at least 15 minutes), the interval plus two hours for a daily one.
 */
function silenceWindow(everyMinutes: number): { period: Duration; periods: number } {
  const windowMinutes = everyMinutes >= 24 * 60 ? everyMinutes + 120 : Math.max(15, everyMinutes * 3);
  const periodMinutes = windowMinutes > 3 * 60 ? 60 : 5;
  return { period: Duration.minutes(periodMinutes), periods: Math.ceil(windowMinutes / periodMinutes) };
}
