import type { FunctionName, QueueName } from '../../../shared/wiring/pipeline.js';

/**
 * What each alarm tells the engineer who is woken by it: what it means, then what to do. Kept apart from the
 * alarm wiring so the words can be reviewed on their own. CloudWatch allows 1024 characters.
 */
export function describeAlarm(means: string, todo: string): string {
  const text = `WHAT IT MEANS: ${means} WHAT TO DO: ${todo}`;
  return text.length <= 1024 ? text : `${text.slice(0, 1021)}...`;
}

export function redrive(dlqArn: string): string {
  return `aws sqs start-message-move-task --source-arn ${dlqArn}`;
}

export const DEAD_LETTER_MEANS: Readonly<Record<QueueName, (mailbox: string, receives: number) => string>> = {
  send: (m, n) =>
    `A file dropped under outbound/${m}/ failed ${n} times and its send task is in the dead-letter queue: ` +
    'the file has NOT reached MESH.',
  download: (m, n) =>
    `A MESH message for mailbox ${m} could not be stored after ${n} attempts. It stays in the MESH inbox, ` +
    'unacknowledged; MESH expires it 5 days after it arrived and reports it undeliverable to the sender.',
  inboundEvents: (_m, n) =>
    `Your consumer of the inbound-events queue failed on an event ${n} times. The message itself is stored ` +
    'safely in the inbound bucket; only your processing of it is stuck.',
  outboundStatus: (_m, n) =>
    `Your consumer of the outbound-status queue failed on an event ${n} times. Transfers are unaffected; ` +
    'only your processing of their status is stuck.',
};

export const DEAD_LETTER_TODO: Readonly<Record<QueueName, (dlqArn: string) => string>> = {
  send: (arn) =>
    'Read the message in the dead-letter queue (it names the S3 key), then the send function logs ' +
    '("send-queue record failed") and the health alarm. Fix the cause (credentials, MESH outage, deleted object), ' +
    `then redrive: ${redrive(arn)}. The S3 object is never altered and a redriven task does not send twice.`,
  download: (arn) =>
    'Find the MESH message id in the dead-letter message and in the download function logs; fix the cause ' +
    `(credentials, bucket permissions, a corrupt message), then redrive within the 5 days: ${redrive(arn)}.`,
  inboundEvents: (arn) =>
    'Check your consumer logs and fix it, then redrive the events (they are kept 14 days): ' + redrive(arn),
  outboundStatus: (arn) =>
    'Check your consumer logs and fix it, then redrive the events (they are kept 14 days): ' + redrive(arn),
};

export const QUEUE_AGE_MEANS: Readonly<Record<QueueName, (mailbox: string, minutes: number) => string>> = {
  send: (m, min) =>
    `The oldest send task of mailbox ${m} has waited over ${min} minutes: outbound files are queuing instead of ` +
    'going to MESH.',
  download: (m, min) =>
    `The oldest download task of mailbox ${m} has waited over ${min} minutes: inbound messages are waiting in ` +
    'MESH instead of arriving in the inbound bucket.',
  inboundEvents: (_m, min) =>
    `An inbound event has waited over ${min} minutes: your consumer is not reading the inbound-events queue. ` +
    'Events are kept 14 days, then lost.',
  outboundStatus: (_m, min) =>
    `An outbound-status event has waited over ${min} minutes: your consumer is not reading the outbound-status ` +
    'queue. Events are kept 14 days, then lost.',
};

export const QUEUE_AGE_TODO: Readonly<Record<QueueName, string>> = {
  send:
    'Check the send function error and throttle alarms, its logs, and the health alarm (credentials, certificate, ' +
    'network). A steady backlog means sends are failing or MESH is slow; a single large file can take a while.',
  download:
    'Check the download function error and throttle alarms, its logs, and the health alarm (credentials, ' +
    'certificate, network).',
  inboundEvents:
    'Check your consumer is running and may read the queue and use the pipeline KMS key (kms:Decrypt).',
  outboundStatus:
    'Check your consumer is running and may read the queue and use the pipeline KMS key (kms:Decrypt).',
};

/** What stops working when each function fails. */
export const FUNCTION_IMPACT: Readonly<Record<FunctionName, string>> = {
  outboundSend:
    'Outbound files are not being sent; affected tasks are retried from the send queue and end in its ' +
    'dead-letter queue if they keep failing.',
  inboundPoll: 'New messages in the MESH inbox are not being picked up; the next scheduled poll tries again.',
  inboundDownload:
    'Inbound messages are not being stored; affected tasks are retried from the download queue and end in its ' +
    'dead-letter queue if they keep failing. Nothing is acknowledged in MESH before it is stored.',
  deliveryTracker:
    'Delivery outcomes (delivered, undeliverable) are delayed; nothing is lost, the next run catches up.',
  health:
    'The daily health check itself crashed instead of reporting, so certificate and credential problems go unseen.',
};

export const ERRORS_TODO =
  'Open the function log group and filter on "level":"ERROR". A "configuration is invalid" line at cold start ' +
  'names the missing setting; "Task timed out" means MESH or S3 was slow; a MESH error names its status and code. ' +
  'Check the health alarm of the same mailbox first: expired credentials break every function at once.';

export const THROTTLES_TODO =
  'The function was refused because its reserved concurrency was in use. For a queue consumer, check Duration ' +
  '(slow MESH) and the queue age alarm; for a scheduled function, runs are taking longer than the schedule ' +
  'interval. Raise a limit only if MESH allows more parallel connections.';
