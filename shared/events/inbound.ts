import { z } from 'zod';
import { contractedEvent } from './contract-error.js';
import type { InboundRecord } from '../inbound/inbound-record.js';
import { eventTime } from './event-time.js';

/** What MESH reported, for REPORT messages, and the outbound transfer it concerns when one was found. */
const InboundReportSchema = z.object({
  code: z.string().optional().describe('MESH status code, e.g. "14" (not collected within 5 days)'),
  event: z.string().optional().describe('MESH event, e.g. "TRANSFER"'),
  description: z.string().optional(),
  linkedMessageId: z.string().optional().describe('The MESH message id the report concerns'),
  linkedTransferId: z.string().optional().describe("That message's outbound transfer in this pipeline"),
});

/**
 * Sent to the inbound-events queue once a message is stored in S3, before MESH is told it was collected. One per
 * MESH message: the queue is FIFO and `eventId` is its deduplication id, and consumers can rely on `eventId` too.
 * The one source of the event's type, the publisher's runtime check and `schemas/inbound.schema.json`.
 */
export const InboundEventV1Schema = z
  .object({
    schema: z.literal('nhs-mesh-pipeline.inbound'),
    version: z.literal(1),
    eventId: z
      .string()
      .min(1)
      .describe('`inbound:{mailbox}:{messageId}`: the same every time this event is published'),
    occurredAt: eventTime.describe('When the message was stored (the time every pipeline event carries)'),
    messageType: z.enum(['DATA', 'REPORT']),
    messageId: z.string().min(1).describe('MESH message id'),
    mailbox: z.string().min(1).describe('The receiving mailbox'),
    sender: z.string().optional(),
    workflowId: z.string().optional(),
    subject: z.string().optional(),
    localId: z.string().optional(),
    fileName: z
      .string()
      .optional()
      .describe(
        'The safe file name the object is stored under (the original is in its mex-filename metadata)',
      ),
    contentType: z.string().optional(),
    size: z.number().int().nonnegative().describe('Bytes stored'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('SHA-256 (hex) of the stored bytes'),
    checksumVerified: z
      .boolean()
      .optional()
      .describe('Present when mex-Content-Checksum carried a SHA-256: whether the stored bytes match it'),
    bucket: z.string().min(1),
    key: z.string().min(1),
    versionId: z.string().optional(),
    receivedAt: eventTime
      .describe('Deprecated: the same as occurredAt, kept for version 0.2 only; read occurredAt')
      .meta({ deprecated: true }),
    report: InboundReportSchema.optional().describe('Only on REPORT messages'),
  })
  .meta({
    title: 'NHS MESH pipeline inbound event, version 1',
    description:
      'One per MESH message, on the inbound-events FIFO queue, sent after the message is stored in S3 and before ' +
      'MESH is told it was collected. Consumers drop repeats by eventId.',
  });

export type InboundEventV1 = z.infer<typeof InboundEventV1Schema>;

/**
 * The inbound event of a stored message, as its id and body, checked against its contract here (before the state
 * write records it as pending): a record that cannot make a valid event fails the task with nothing recorded.
 */
export function inboundEvent(record: InboundRecord, occurredAt: string): [string, string] {
  const eventId = `inbound:${record.mailboxId}:${record.messageId}`;
  const event: InboundEventV1 = {
    schema: 'nhs-mesh-pipeline.inbound',
    version: 1,
    eventId,
    occurredAt,
    messageType: record.messageType ?? 'DATA',
    messageId: record.messageId,
    mailbox: record.mailboxId,
    sender: record.sender,
    workflowId: record.workflowId,
    subject: record.subject,
    localId: record.localId,
    fileName: record.fileName,
    contentType: record.contentType,
    size: record.size ?? 0,
    sha256: record.sha256,
    checksumVerified: record.checksumVerified,
    bucket: record.bucket ?? '',
    key: record.key ?? '',
    versionId: record.versionId,
    receivedAt: occurredAt,
    report: record.report,
  };
  return contractedEvent(InboundEventV1Schema, event);
}
