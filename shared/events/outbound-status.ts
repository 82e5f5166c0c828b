import { z } from 'zod';
import { contractedEvent } from './contract-error.js';
import type { TransferRecord, TransferStatus } from '../outbound/transfer.js';
import { eventTime } from './event-time.js';

const STATUSES = [
  'received',
  'sending',
  'stalled',
  'accepted',
  'rejected',
  'failed',
  'delivered',
  'undeliverable',
] as const satisfies readonly TransferStatus[];
// Every status a transfer can have is one the contract allows (the other direction is the `satisfies` above).
const _everyStatus: (typeof STATUSES)[number] = '' as TransferStatus;

/**
 * Sent to the outbound-status queue on every status change of an outbound transfer. Delivery is at least once:
 * `eventId` is the same on a repeat, so consumers can drop duplicates by it. The one source of the event's type, the
 * publisher's runtime check and `schemas/outbound-status.schema.json`.
 */
export const OutboundStatusEventV1Schema = z
  .object({
    schema: z.literal('nhs-mesh-pipeline.outbound-status'),
    version: z.literal(1),
    eventId: z
      .string()
      .min(1)
      .describe(
        '`{transferId}:{status}:{attempt}`: unique per status change, the same when that change is published again',
      ),
    occurredAt: eventTime.describe('When the status changed'),
    transferId: z.string().min(1),
    status: z.enum(STATUSES),
    mailbox: z.string().optional().describe('The sending mailbox'),
    recipient: z.string().optional(),
    workflowId: z.string().optional(),
    localId: z.string().optional(),
    messageId: z.string().optional().describe('MESH message id, once MESH gave one'),
    bucket: z.string().min(1),
    key: z.string().min(1),
    versionId: z.string().optional(),
    size: z.number().int().nonnegative(),
    chunksSent: z.number().int().nonnegative(),
    totalChunks: z.number().int().nonnegative().optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe(
        'SHA-256 (hex) of the original object, once the transfer is accepted; absent before that, and when a send ' +
          'split across invocations could not read its object again for it',
      ),
    error: z
      .object({ code: z.string().optional(), text: z.string() })
      .optional()
      .describe("For rejected, failed, stalled and undeliverable: MESH's code when it gave one, and why"),
  })
  .meta({
    title: 'NHS MESH pipeline outbound status event, version 1',
    description:
      'One per status change of an outbound transfer, on the outbound-status FIFO queue: received, sending, ' +
      'accepted, then delivered or undeliverable; or rejected, failed, stalled. Consumers drop repeats by eventId.',
  });

export type OutboundStatusEventV1 = z.infer<typeof OutboundStatusEventV1Schema>;

/**
 * The status event of a transfer's new status, as its id and body, checked against its contract here (before the
 * state write records it as pending): a record that cannot make a valid event fails the task with nothing recorded.
 */
export function outboundStatusEvent(record: TransferRecord, occurredAt: string): [string, string] {
  const eventId = `${record.transferId}:${record.status}:${record.attempts}`;
  const event: OutboundStatusEventV1 = {
    schema: 'nhs-mesh-pipeline.outbound-status',
    version: 1,
    eventId,
    occurredAt,
    transferId: record.transferId,
    status: record.status,
    mailbox: record.sender,
    recipient: record.recipient,
    workflowId: record.workflowId,
    localId: record.localId,
    messageId: record.messageId,
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
    size: record.size,
    chunksSent: record.chunksSent,
    totalChunks: record.totalChunks,
    sha256: record.sha256,
    error: record.errorText ? { code: record.errorCode, text: record.errorText } : undefined,
  };
  return contractedEvent(OutboundStatusEventV1Schema, event);
}
