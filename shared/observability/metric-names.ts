import type { FunctionName } from '../wiring/pipeline.js';

/**
 * Metric names the functions emit and the alarms watch. Namespace `NhsMeshPipeline`; per-mailbox metrics carry a
 * `Mailbox` dimension.
 */
export const METRICS = {
  transfersAccepted: 'TransfersAccepted',
  transfersRejected: 'TransfersRejected',
  transfersFailed: 'TransfersFailed',
  transfersDelivered: 'TransfersDelivered',
  transfersUndeliverable: 'TransfersUndeliverable',
  transferRetries: 'TransferRetries',
  chunksSent: 'ChunksSent',
  bytesSent: 'BytesSent',
  inboundMessagesStored: 'InboundMessagesStored',
  inboundBytesStored: 'InboundBytesStored',
  inboundReports: 'InboundReports',
  inboundPoisoned: 'InboundPoisoned',
  /** A stored and announced message whose acknowledgement MESH refused or failed; the poller retries it. */
  inboundAckFailures: 'InboundAckFailures',
  /** A first POST sent again after its earlier attempt's outcome was unknown and no message could be found. */
  unknownOutcomeResends: 'UnknownOutcomeResends',
  /** Pending events the relay found and published after the invocation that wrote them stopped short. */
  eventsRelayed: 'EventsRelayed',
  /** A mailbox's inbox could not be listed (credentials, TLS, MESH); it is polled again at its next interval. */
  inboxPollFailures: 'InboxPollFailures',
  /** 1 when a mailbox has had no inbound message for longer than its registry's expectedInboundHours, else 0. */
  inboundOverdue: 'InboundOverdue',
  healthCheckFailed: 'HealthCheckFailed',
  healthCheckSucceeded: 'HealthCheckSucceeded',
  certificateDaysToExpiry: 'CertificateDaysToExpiry',
} as const;

export const MAILBOX_DIMENSION = 'Mailbox';

/**
 * The functions that emit each alarmed metric. Alarms select on both dimensions Powertools writes (`service` and
 * `Mailbox`), so an alarm watches nothing if a metric moves to another function without this list following it.
 */
export const METRIC_EMITTERS = {
  transfersFailed: ['outboundSend'],
  unknownOutcomeResends: ['outboundSend'],
  inboundAckFailures: ['inboundDownload'],
  transfersUndeliverable: ['deliveryTracker', 'inboundDownload'],
  inboundMessagesStored: ['inboundDownload'],
  inboundOverdue: ['inboundPoll'],
  inboxPollFailures: ['inboundPoll'],
  healthCheckFailed: ['health'],
  healthCheckSucceeded: ['health'],
  certificateDaysToExpiry: ['health'],
} as const satisfies Partial<Record<keyof typeof METRICS, readonly FunctionName[]>>;
