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

/**
 * How a per-mailbox alarm names its mailbox: it is one alarm for every mailbox (a Metrics Insights query grouped by
 * mailbox), and each mailbox that breaches is a contributor of its own.
 */
export function whichMailbox(alarmName: string): string {
  return (
    'One alarm for every mailbox: the mailbox is the Mailbox attribute of the contributor in the notification ' +
    `(all of them: aws cloudwatch describe-alarm-contributors --alarm-name ${alarmName}).`
  );
}

export const DEAD_LETTER_MEANS: Readonly<Record<QueueName, (receives: number) => string>> = {
  send: (n) =>
    `A send task failed ${n} times and is in the dead-letter queue; its transfer is "stalled". The message names ` +
    'the S3 key (outbound/{MAILBOX}/...), so the mailbox. The message is not complete in MESH, but some of its ' +
    'chunks may already have reached MESH: a redrive resumes the same transfer where it stopped.',
  download: (n) =>
    `A MESH message could not be stored after ${n} attempts; the dead-letter message names its mailbox and MESH ` +
    'message id. It stays in that MESH inbox, unacknowledged; MESH expires it 5 days after it arrived and reports ' +
    'it undeliverable to the sender.',
  inboundEvents: (n) =>
    `Your consumer of the inbound-events queue failed on an event ${n} times. The message itself is stored ` +
    'safely in the inbound bucket; only your processing of it is stuck.',
  outboundStatus: (n) =>
    `Your consumer of the outbound-status queue failed on an event ${n} times. Transfers are unaffected; ` +
    'only your processing of their status is stuck.',
  eventRelay: (n) =>
    `The event relay failed ${n} times to re-check a transfer or inbound message whose event publishing was ` +
    'interrupted: its status or inbound events may be waiting, unpublished, in its record.',
};

export const DEAD_LETTER_TODO: Readonly<Record<QueueName, (dlqArn: string) => string>> = {
  send: (arn) =>
    'Read the errorText and errorCode of the transfer record (mesh transfer show, by the S3 key in the dead-letter ' +
    'message), the send function logs and the health alarm. Fix the cause (credentials, a paused or removed ' +
    `mailbox, MESH outage, deleted object), then redrive the DLQ: ${redrive(arn)}. Never upload the file again: a ` +
    'new upload is a new transfer and would send the message twice; a redriven task does not.',
  download: (arn) =>
    'Find the mailbox and MESH message id in the dead-letter message and in the download function logs; fix the ' +
    `cause (credentials, bucket permissions, a corrupt message), then redrive within the 5 days: ${redrive(arn)}.`,
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

export const QUEUE_AGE_MEANS: Readonly<Record<QueueName, (minutes: number) => string>> = {
  send: (min) =>
    `A send task has waited over ${min} minutes: outbound files are queuing instead of going to MESH. Each ` +
    "mailbox's tasks are a message group of their own, so this is a mailbox whose sends are slow, failing or at " +
    'its concurrency cap, or the whole fleet at its limit.',
  download: (min) =>
    `A download task has waited over ${min} minutes: inbound messages are waiting in MESH instead of arriving in ` +
    "the inbound bucket. Each mailbox's tasks are a message group of their own, so this is a mailbox whose " +
    'downloads are slow, failing or at its concurrency cap, or the whole fleet at its limit.',
  inboundEvents: (min) =>
    `An inbound event has waited over ${min} minutes: your consumer is not reading the inbound-events queue. ` +
    'Events are kept 14 days, then lost.',
  outboundStatus: (min) =>
    `An outbound-status event has waited over ${min} minutes: your consumer is not reading the outbound-status ` +
    'queue. Events are kept 14 days, then lost.',
  eventRelay: (min) =>
    `A re-check has waited over ${min} minutes in the event-relay queue: the relay is not running, so events ` +
    'whose publishing was interrupted are late, and may reach consumers twice when they are published.',
};

export const QUEUE_AGE_TODO: Readonly<Record<QueueName, string>> = {
  send:
    'Check the send function error and throttle alarms, its logs (which mailbox the slow tasks are for), and the ' +
    'health alarm (credentials, certificate, network). A paused mailbox keeps its tasks waiting until it is ' +
    'resumed (mesh mailbox resume); a single large file can take a while.',
  download:
    'Check the download function error and throttle alarms, its logs (which mailbox the slow tasks are for), and ' +
    'the health alarm (credentials, certificate, network). A paused mailbox keeps its tasks waiting until resumed.',
  inboundEvents:
    'Check your consumer is running and may read the queue and use the pipeline KMS key (kms:Decrypt).',
  outboundStatus:
    'Check your consumer is running and may read the queue and use the pipeline KMS key (kms:Decrypt).',
  eventRelay:
    'Check the event-relay function error and throttle alarms and its logs; it needs the table, both event ' +
    'queues and the pipeline key.',
};

/** What stops working when each function fails: for every mailbox, as one function serves them all. */
export const FUNCTION_IMPACT: Readonly<Record<FunctionName, string>> = {
  outboundSend:
    'Outbound files are not being sent; affected tasks are retried from the send queue and end in its ' +
    'dead-letter queue if they keep failing.',
  inboundPoll:
    'New messages in the MESH inboxes are not being picked up; the next run (every minute) polls the mailboxes ' +
    'that are due.',
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

export const TRANSFERS_FAILED_MEANS =
  'An outbound file of a mailbox ended "failed": MESH\'s answer proves the message was NOT accepted (credentials ' +
  'refused, as after a bad password rotation, which fails every file; recipient not registered, code 12; workflow ' +
  'not registered).';

export const TRANSFERS_FAILED_TODO =
  'Read the "failed" outbound-status event or the transfer record for errorCode and errorText, and check the ' +
  'health alarm of the mailbox. Fix the cause (its credentials: mesh mailbox set-credentials; the recipient or ' +
  'workflow: npx mesh lookup ODS WORKFLOW), then upload each failed file again: that is safe, because MESH did ' +
  'not accept the failed message.';

export const UNKNOWN_OUTCOME_RESENDS_MEANS =
  'A first send from a mailbox whose outcome was unknown (the connection broke before MESH answered) was sent ' +
  'again, after MESH tracking by its local id and the outbox listing found no message over the recheck window. ' +
  'If MESH had in fact accepted the first attempt, the recipient now has the message twice.';

export const UNKNOWN_OUTCOME_RESENDS_TODO =
  'Find the transfer in the send function log ("sending again"): its transfer id and local id (nmp-<transfer ' +
  'id>). Check MESH tracking for that local id (outbox/tracking?localID=, or the MESH UI). If two messages carry ' +
  'it, tell the recipient which message id is the duplicate.';

export const INBOUND_ACK_FAILURES_MEANS = (minutes: number) =>
  `For ${minutes} minutes in a row MESH refused or failed acknowledgements of messages of a mailbox that are ` +
  'already stored in the inbound bucket and announced on the inbound-events queue. Nothing is lost; they stay in ' +
  'the MESH inbox and the poller queues them again, but left for 5 days MESH reports them uncollected.';

export const INBOUND_ACK_FAILURES_TODO =
  'Read "acknowledgement failed" in the download function log for MESH\'s status and code; check the health ' +
  'alarm, the mailbox credentials and certificate, and that the mailbox is the one the messages were sent to. ' +
  'Once fixed, the poller acknowledges them; nothing needs redriving.';

export const UNDELIVERABLE_MEANS =
  'MESH reported that a message sent from a mailbox could not be delivered (for example code 14: not collected by ' +
  'the recipient within 5 days).';

export const UNDELIVERABLE_TODO =
  'Find the outbound-status event with status "undeliverable" (or the transfer record) for its code and text; ' +
  'contact the recipient organisation or correct the address, then upload the file again to resend.';

export const CERTIFICATE_MEANS = (days: number) =>
  `The MESH client certificate of a mailbox expires in under ${days} days. When it expires, every MESH call of ` +
  'that mailbox fails.';

export const CERTIFICATE_TODO = (invokeHealth: string) =>
  'Generate a new key and CSR and request the certificate from the NHS England MESH team (allow days). Put the ' +
  'new certificate and key in place with mesh mailbox set-credentials (infra/README.md); the functions read it ' +
  `again within minutes, no redeploy. Then clear the alarm by running the check: ${invokeHealth}`;

export const HEALTH_FAILED_MEANS =
  'The MESH health check of a mailbox failed: MESH refused its credentials, the TLS handshake failed (certificate ' +
  'expired or from the wrong CA) or MESH could not be reached. Sends and polls of that mailbox are most likely ' +
  'failing too.';

export const HEALTH_FAILED_TODO = (invokeHealth: string) =>
  'Read "MESH health check failed" for the mailbox in the health function log: its failure and hint fields say ' +
  'which. Fix its credentials (mesh mailbox set-credentials) or the network, then rerun the check to clear the ' +
  `alarm: ${invokeHealth}`;

export const INBOUND_OVERDUE_MEANS =
  'A mailbox that expects traffic has stored no inbound message for longer than its window (expectedInboundHours ' +
  'in the registry): either nobody is sending, or polling or downloading is broken for it.';

export const INBOUND_OVERDUE_TODO =
  'Check the poll and download error alarms and the health alarm, the MESH inbox count (MESH UI or the mesh CLI), ' +
  'whether the mailbox is paused (mesh mailbox show), and with the sending organisations. If silence is normal, ' +
  "change the mailbox's expectedInboundHours in the registry.";

/** What goes undone, for every mailbox, while a scheduled function does not run. */
export const SCHEDULED_WORK: Readonly<Partial<Record<FunctionName, string>>> = {
  inboundPoll: 'no inbox is polled, and no inbound-overdue state is reported.',
  deliveryTracker: 'no delivery outcome is checked.',
  health:
    'no handshake or certificate check runs, so an expiring certificate or a changed password goes unseen.',
};

export const NOT_RUNNING_MEANS = (name: FunctionName, service: string, minutes: number) =>
  `The ${service} function has not run for ${minutes} minutes though it is scheduled: for every mailbox, ` +
  (SCHEDULED_WORK[name] ?? 'its work is not done.');

export const NOT_RUNNING_TODO =
  'Check its EventBridge schedule rule is enabled, its errors and throttles alarms and its log group, then run it ' +
  'once by hand: aws lambda invoke --function-name ';

export const ERRORS_TODO =
  'Open the function log group and filter on "level":"ERROR". A "configuration is invalid" line at cold start ' +
  'names the missing setting; "Task timed out" means MESH or S3 was slow; a MESH error names its status, code ' +
  'and mailbox. Check the health alarm first: one mailbox with expired credentials shows up here too.';

export const THROTTLES_TODO =
  'The function was refused because its reserved concurrency was in use. For a queue consumer, check Duration ' +
  '(slow MESH) and the queue age alarm; for a scheduled function, runs are taking longer than the schedule ' +
  'interval. Raise a limit only if MESH allows more parallel connections.';
