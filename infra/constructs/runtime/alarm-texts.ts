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
    `A send task for a file under outbound/${m}/ failed ${n} times and is in the dead-letter queue; its transfer ` +
    'is "stalled". The message is not complete in MESH, but some of its chunks may already have reached MESH: ' +
    'a redrive resumes the same transfer where it stopped.',
  download: (m, n) =>
    `A MESH message for mailbox ${m} could not be stored after ${n} attempts. It stays in the MESH inbox, ` +
    'unacknowledged; MESH expires it 5 days after it arrived and reports it undeliverable to the sender.',
  inboundEvents: (_m, n) =>
    `Your consumer of the inbound-events queue failed on an event ${n} times. The message itself is stored ` +
    'safely in the inbound bucket; only your processing of it is stuck.',
  outboundStatus: (_m, n) =>
    `Your consumer of the outbound-status queue failed on an event ${n} times. Transfers are unaffected; ` +
    'only your processing of their status is stuck.',
  eventRelay: (_m, n) =>
    `The event relay failed ${n} times to re-check a transfer or inbound message whose event publishing was ` +
    'interrupted: its status or inbound events may be waiting, unpublished, in its record.',
};

export const DEAD_LETTER_TODO: Readonly<Record<QueueName, (dlqArn: string) => string>> = {
  send: (arn) =>
    'Read the errorText and errorCode of the transfer record (the dead-letter message names the S3 key; the ' +
    '"stalled" status event names the transfer), the send function logs and the health alarm. Fix the cause ' +
    `(credentials, MESH outage, deleted object), then redrive the DLQ: ${redrive(arn)}. Never upload the file ` +
    'again: a new upload is a new transfer and would send the message twice; a redriven task does not.',
  download: (arn) =>
    'Find the MESH message id in the dead-letter message and in the download function logs; fix the cause ' +
    `(credentials, bucket permissions, a corrupt message), then redrive within the 5 days: ${redrive(arn)}.`,
  inboundEvents: (arn) =>
    'Check your consumer logs and fix it, then redrive the events (they are kept 14 days): ' + redrive(arn),
  outboundStatus: (arn) =>
    'Check your consumer logs and fix it, then redrive the events (they are kept 14 days): ' + redrive(arn),
  eventRelay: (arn) =>
    'Read "relay record failed" in the event-relay function logs and check its errors alarm; fix the cause (it ' +
    `needs the table, both event queues and the pipeline key), then redrive the relay DLQ: ${redrive(arn)}. A ` +
    "redrive more than five minutes after the first publish may repeat an event (past the FIFO queues' " +
    'deduplication window): consumers drop repeats by eventId.',
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
  eventRelay: (_m, min) =>
    `A re-check has waited over ${min} minutes in the event-relay queue: the relay is not running, so events ` +
    'whose publishing was interrupted are late, and may reach consumers twice when they are published.',
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
  eventRelay:
    'Check the event-relay function error and throttle alarms and its logs; it needs the table, both event ' +
    'queues and the pipeline key.',
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
  eventRelay:
    "Events left pending by an interrupted invocation are not re-published within the FIFO queues' five-minute " +
    'deduplication window; they are published later, and consumers may see one twice (drop repeats by eventId).',
};

export const TRANSFERS_FAILED_MEANS = (m: string) =>
  `An outbound file of mailbox ${m} ended "failed": MESH's answer proves the message was NOT accepted (credentials ` +
  'refused, as after a bad password rotation, which fails every file; recipient not registered, code 12; workflow ' +
  'not registered).';

export const TRANSFERS_FAILED_TODO =
  'Read the "failed" outbound-status event or the transfer record for errorCode and errorText, and check the ' +
  'health alarm of this mailbox. Fix the cause (the mailbox secret with put-secret-value; the recipient or ' +
  'workflow: npx mesh lookup ODS WORKFLOW), then upload each failed file again: that is safe, because MESH did ' +
  'not accept the failed message.';

export const UNKNOWN_OUTCOME_RESENDS_MEANS = (m: string) =>
  `A first send from mailbox ${m} whose outcome was unknown (the connection broke before MESH answered) was sent ` +
  'again, after MESH tracking by its local id and the outbox listing found no message over the recheck window. ' +
  'If MESH had in fact accepted the first attempt, the recipient now has the message twice.';

export const UNKNOWN_OUTCOME_RESENDS_TODO =
  'Find the transfer in the send function log ("sending again"): its transfer id and local id (nmp-<transfer ' +
  'id>). Check MESH tracking for that local id (outbox/tracking?localID=, or the MESH UI). If two messages carry ' +
  'it, tell the recipient which message id is the duplicate.';

export const INBOUND_ACK_FAILURES_MEANS = (m: string, minutes: number) =>
  `For ${minutes} minutes in a row MESH refused or failed acknowledgements of messages of mailbox ${m} that are ` +
  'already stored in the inbound bucket and announced on the inbound-events queue. Nothing is lost; they stay in ' +
  'the MESH inbox and the poller queues them again, but left for 5 days MESH reports them uncollected to the sender.';

export const INBOUND_ACK_FAILURES_TODO =
  'Read "acknowledgement failed" and "has not taken its acknowledgement" in the download function log for MESH\'s ' +
  'status and code; check the health alarm, the mailbox secret (credentials, certificate) and that the mailbox is ' +
  'the one the messages were sent to. Once fixed, the poller acknowledges them; nothing needs redriving.';

export const ERRORS_TODO =
  'Open the function log group and filter on "level":"ERROR". A "configuration is invalid" line at cold start ' +
  'names the missing setting; "Task timed out" means MESH or S3 was slow; a MESH error names its status and code. ' +
  'Check the health alarm of the same mailbox first: expired credentials break every function at once.';

export const THROTTLES_TODO =
  'The function was refused because its reserved concurrency was in use. For a queue consumer, check Duration ' +
  '(slow MESH) and the queue age alarm; for a scheduled function, runs are taking longer than the schedule ' +
  'interval. Raise a limit only if MESH allows more parallel connections.';
