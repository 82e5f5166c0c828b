import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CERTIFICATE_WARNING_DAYS } from '../../../shared/health/certificate.js';
import { MAILBOX_DIMENSION, METRIC_EMITTERS, METRICS } from '../../../shared/observability/metric-names.js';
import { METRICS_NAMESPACE } from '../../../shared/observability/powertools.js';
import { FUNCTIONS, QUEUES } from '../../../shared/wiring/pipeline.js';
import type { MeshMailboxProps } from '../props.js';
import type { MeshPipelineStorage, PipelineQueue } from '../storage/pipeline-storage.js';
import {
  DEAD_LETTER_MEANS,
  DEAD_LETTER_TODO,
  ERRORS_TODO,
  FUNCTION_IMPACT,
  INBOUND_ACK_FAILURES_MEANS,
  INBOUND_ACK_FAILURES_TODO,
  QUEUE_AGE_MEANS,
  QUEUE_AGE_TODO,
  THROTTLES_TODO,
  TRANSFERS_FAILED_MEANS,
  TRANSFERS_FAILED_TODO,
  UNKNOWN_OUTCOME_RESENDS_MEANS,
  UNKNOWN_OUTCOME_RESENDS_TODO,
  describeAlarm,
} from './alarm-texts.js';
import type { DeploymentFunctions, MailboxFunctions, PipelineFunction } from './mailbox-functions.js';

export interface PipelineAlarmsProps {
  readonly topic: ITopic;
  readonly storage: MeshPipelineStorage;
  readonly mailboxes: readonly { readonly props: MeshMailboxProps; readonly functions: MailboxFunctions }[];
  readonly deploymentFunctions: DeploymentFunctions;
  readonly workQueueAgeMinutes: number;
  readonly eventQueueAgeMinutes: number;
}

interface AlarmSpec {
  /** Short, unique, readable: becomes the end of the alarm name. */
  readonly name: string;
  readonly metric: IMetric;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly missing: TreatMissingData;
  readonly evaluationPeriods?: number;
  readonly means: string;
  readonly todo: string;
}

const FIVE_MINUTES = Duration.minutes(5);
const HOUR = Duration.hours(1);
/** The health check runs daily; two hours of slack before its silence is alarmed. */
const HEALTH_SILENCE_HOURS = 26;
/** A scheduled function is alarmed on throttles only when runs keep overlapping for this many periods. */
const SCHEDULED_THROTTLE_PERIODS = 3;
/**
 * Acknowledgement failures alarm only when they last this many five-minute periods: one failure is retried at
 * once, and the message is already stored and announced.
 */
const ACK_FAILURE_PERIODS = 3;

/** Every alarm of the pipeline, each sent to the topic with a description an on-call engineer can act on. */
export class PipelineAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly topic: ITopic;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    this.prefix = Stack.of(this).stackName;
    for (const queue of props.storage.allQueues()) this.queueAlarms(queue, props);
    for (const mailbox of props.mailboxes) {
      for (const fn of mailbox.functions.functions.values()) this.functionAlarms(fn);
      this.mailboxAlarms(mailbox.props, mailbox.functions);
    }
    for (const fn of props.deploymentFunctions.functions.values()) this.functionAlarms(fn);
  }

  private queueAlarms(queue: PipelineQueue, props: PipelineAlarmsProps): void {
    const spec = QUEUES[queue.name];
    const owner = queue.mailboxId ?? 'shared';
    const label = `${owner}-${queue.name}`;
    const dlq = queue.pair.deadLetterQueue;
    this.add(`${label}-dead-letters`, {
      name: `${label}-dead-letters`,
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: DEAD_LETTER_MEANS[queue.name](owner, spec.maxReceiveCount),
      todo: DEAD_LETTER_TODO[queue.name](dlq.queueArn),
    });
    const minutes = spec.consumer ? props.workQueueAgeMinutes : props.eventQueueAgeMinutes;
    this.add(`${label}-oldest-message`, {
      name: `${label}-oldest-message`,
      metric: queue.pair.queue.metricApproximateAgeOfOldestMessage({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      threshold: minutes * 60,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: QUEUE_AGE_MEANS[queue.name](owner, minutes),
      todo: QUEUE_AGE_TODO[queue.name],
    });
  }

  private functionAlarms(f: PipelineFunction): void {
    const service = FUNCTIONS[f.name].serviceName;
    const label = `${f.mailboxId ?? 'shared'}-${service}`;
    const whose = f.mailboxId ? `of mailbox ${f.mailboxId}` : 'of the whole deployment';
    this.add(`${label}-errors`, {
      name: `${label}-errors`,
      metric: f.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: `The ${service} function ${whose} failed (an unhandled error or a timeout). ${FUNCTION_IMPACT[f.name]}`,
      todo: ERRORS_TODO,
    });
    const scheduled = f.everyMinutes !== undefined;
    this.add(`${label}-throttles`, {
      name: `${label}-throttles`,
      metric: f.fn.metricThrottles({
        period: scheduled ? Duration.minutes(15) : FIVE_MINUTES,
        statistic: 'Sum',
      }),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      evaluationPeriods: scheduled ? SCHEDULED_THROTTLE_PERIODS : 1,
      means:
        `Lambda refused to run the ${service} function ${whose}` +
        (scheduled ? ' for 45 minutes in a row.' : '.') +
        ` ${FUNCTION_IMPACT[f.name]}`,
      todo: THROTTLES_TODO,
    });
  }

  private mailboxAlarms(mailbox: MeshMailboxProps, functions: MailboxFunctions): void {
    const m = mailbox.id;
    const health = functions.functions.get('health')!.fn;
    const invokeHealth = `aws lambda invoke --function-name ${health.functionName} /dev/stdout`;
    this.add(`${m}-undeliverable`, {
      name: `${m}-undeliverable`,
      metric: sumOver(
        METRICS.transfersUndeliverable,
        METRIC_EMITTERS.transfersUndeliverable,
        m,
        FIVE_MINUTES,
      ),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means:
        `MESH reported that a message sent from mailbox ${m} could not be delivered (for example code 14: not ` +
        'collected by the recipient within 5 days).',
      todo:
        'Find the outbound-status event with status "undeliverable" (or the transfer record) for its code and ' +
        'text; contact the recipient organisation or correct the address, then upload the file again to resend.',
    });
    this.add(`${m}-transfers-failed`, {
      name: `${m}-transfers-failed`,
      metric: emitted('transfersFailed', m, FIVE_MINUTES),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: TRANSFERS_FAILED_MEANS(m),
      todo: TRANSFERS_FAILED_TODO,
    });
    this.add(`${m}-unknown-outcome-resends`, {
      name: `${m}-unknown-outcome-resends`,
      metric: emitted('unknownOutcomeResends', m, FIVE_MINUTES),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      means: UNKNOWN_OUTCOME_RESENDS_MEANS(m),
      todo: UNKNOWN_OUTCOME_RESENDS_TODO,
    });
    this.add(`${m}-inbound-ack-failures`, {
      name: `${m}-inbound-ack-failures`,
      metric: emitted('inboundAckFailures', m, FIVE_MINUTES),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // A period without failures breaks the run: the alarm is for acknowledgements that keep failing.
      missing: TreatMissingData.NOT_BREACHING,
      evaluationPeriods: ACK_FAILURE_PERIODS,
      means: INBOUND_ACK_FAILURES_MEANS(m, ACK_FAILURE_PERIODS * FIVE_MINUTES.toMinutes()),
      todo: INBOUND_ACK_FAILURES_TODO,
    });
    this.add(`${m}-certificate-expiry`, {
      name: `${m}-certificate-expires-soon`,
      metric: mailboxMetric(METRICS.certificateDaysToExpiry, 'health', m, HOUR, 'Minimum'),
      threshold: CERTIFICATE_WARNING_DAYS,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      // Published once a day: keep the state between checks rather than flapping to OK.
      missing: TreatMissingData.IGNORE,
      means:
        `The MESH client certificate of mailbox ${m} expires in under ${CERTIFICATE_WARNING_DAYS} days. When it ` +
        'expires, every MESH call of this mailbox fails.',
      todo:
        'Generate a new key and CSR and request the certificate from the NHS England MESH team (allow days). Put ' +
        'clientCert and clientKey into the mailbox secret with put-secret-value (infra/README.md); the functions ' +
        `use it within 5 minutes, no redeploy. Then clear the alarm by running the check: ${invokeHealth}`,
    });
    this.add(`${m}-health-check-failed`, {
      name: `${m}-health-check-failed`,
      metric: mailboxMetric(METRICS.healthCheckFailed, 'health', m, FIVE_MINUTES, 'Maximum'),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Stays in alarm until a check passes (every check publishes 0 or 1).
      missing: TreatMissingData.IGNORE,
      means:
        `The MESH health check of mailbox ${m} failed: MESH refused its credentials, the TLS handshake failed ` +
        '(certificate expired or from the wrong CA) or MESH could not be reached. Sends and polls of this ' +
        'mailbox are most likely failing too.',
      todo:
        'Read the "MESH health check failed" line in the health function log group: its failure and hint fields ' +
        'say which. Fix the mailbox secret (put-secret-value) or the network, then rerun the check to clear the ' +
        `alarm: ${invokeHealth}`,
    });
    this.add(`${m}-health-check-missing`, {
      name: `${m}-health-check-missing`,
      metric: mailboxMetric(METRICS.healthCheckFailed, 'health', m, HOUR, 'SampleCount'),
      threshold: 1,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: HEALTH_SILENCE_HOURS,
      missing: TreatMissingData.BREACHING,
      means:
        `No MESH health check result for mailbox ${m} in ${HEALTH_SILENCE_HOURS} hours: the daily check did not ` +
        'run or crashed before reporting, so an expiring certificate or a changed password would go unseen.',
      todo:
        'Check the health function schedule rule is enabled, its errors alarm and its log group, then run it: ' +
        invokeHealth,
    });
    if (mailbox.expectInboundWithinHours !== undefined) {
      const hours = mailbox.expectInboundWithinHours;
      this.add(`${m}-no-inbound`, {
        name: `${m}-no-inbound-for-${hours}h`,
        metric: mailboxMetric(METRICS.inboundMessagesStored, 'inboundDownload', m, HOUR, 'Sum'),
        threshold: 1,
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: hours,
        missing: TreatMissingData.BREACHING,
        means:
          `No inbound message has been stored for mailbox ${m} in ${hours} hours, though it is configured to ` +
          'expect traffic: either nobody is sending, or polling or downloading is broken.',
        todo:
          'Check the poll and download error alarms and the health alarm of this mailbox, the MESH inbox count ' +
          '(MESH UI or the mesh CLI), and with the sending organisations. If silence is normal, raise or remove ' +
          'expectInboundWithinHours.',
      });
    }
  }

  private add(id: string, spec: AlarmSpec): void {
    const evaluationPeriods = spec.evaluationPeriods ?? 1;
    const alarm = new Alarm(this, id, {
      alarmName: `${this.prefix}-${spec.name}`,
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

type Emitter = keyof typeof FUNCTIONS;

/**
 * A per-mailbox count as the functions METRIC_EMITTERS names emit it: the metric itself when one function emits
 * it, their sum when several do.
 */
function emitted(metric: keyof typeof METRIC_EMITTERS, mailboxId: string, period: Duration): IMetric {
  const emitters: readonly Emitter[] = METRIC_EMITTERS[metric];
  if (emitters.length === 1) return mailboxMetric(METRICS[metric], emitters[0]!, mailboxId, period, 'Sum');
  return sumOver(METRICS[metric], emitters, mailboxId, period);
}

/** A metric as Powertools writes it for one mailbox: both the `service` and the `Mailbox` dimension. */
export function mailboxMetric(
  metricName: string,
  emitter: Emitter,
  mailboxId: string,
  period: Duration,
  statistic: string,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: FUNCTIONS[emitter].serviceName, [MAILBOX_DIMENSION]: mailboxId },
    period,
    statistic,
  });
}

/** The sum of one metric over the functions that emit it; a function with no data counts as zero. */
function sumOver(
  metricName: string,
  emitters: readonly Emitter[],
  mailboxId: string,
  period: Duration,
): IMetric {
  const usingMetrics = Object.fromEntries(
    emitters.map((emitter, i) => [`m${i}`, mailboxMetric(metricName, emitter, mailboxId, period, 'Sum')]),
  );
  return new MathExpression({
    expression: Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    usingMetrics,
    label: `${metricName} (${mailboxId})`,
    period,
  });
}
