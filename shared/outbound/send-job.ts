import { createHash } from 'node:crypto';
import type { LeasedJobSettings } from '../jobs/leased-job.js';
import type { Log } from '../observability/ports.js';
import type { TransferStore } from '../state/transfer-store.js';
import { senderFromKey } from './addressing.js';
import type { ObjectRef, TransferRecord } from './transfer.js';

export type { InvocationBudget } from '../jobs/leased-job.js';

export interface OutboundSettings extends LeasedJobSettings {
  /** Uncompressed bytes per MESH chunk. */
  readonly chunkBytes: number;
  /** Gzip for transport, where samples of the object show it is worth it; false: never. */
  readonly compress: boolean;
  /** zlib level for transport gzip (DEFAULT_COMPRESSION_LEVEL in shared/mesh/compression.ts says why 1). */
  readonly compressionLevel: number;
  /** Worker threads gzipping at once, each on a segment of the chunk being prepared; 0: one per core. */
  readonly compressionWorkers: number;
  readonly maxBytes: number;
  /** Only for local MESH servers: allow chunks under MESH's 5 MB minimum. */
  readonly allowSmallChunks?: boolean;
  /** A resumed send's SHA-256 of its object saves its progress every so many bytes. */
  readonly hashCheckpointBytes: number;
  /** When the first delivery check is due after acceptance (MESH rarely has news sooner than a minute). */
  readonly firstTrackingDelayMs: number;
  /**
   * After a first POST whose outcome is unknown, MESH is asked again after each of these delays (seconds, each at
   * most SQS's 900) before the message counts as never created and is sent again: tracking can lag behind a send.
   */
  readonly recoveryRecheckSeconds: readonly number[];
}

export type SendTask =
  | { readonly kind: 'object'; readonly object: ObjectRef }
  | { readonly kind: 'continue'; readonly transferId: string; readonly mailboxId?: string };

export type SendOutcome =
  | 'accepted'
  | 'paused'
  | 'rejected'
  | 'failed'
  /** Already finished by an earlier delivery of the same event. */
  | 'duplicate'
  /** Another invocation holds the transfer and will finish or hand it over. */
  | 'busy';

/**
 * Puts a message on the send queue that carries the transfer on in a fresh invocation, after a delay if given, in
 * its mailbox's message group.
 */
export type EnqueueContinuation = (
  transferId: string,
  mailboxId: string | undefined,
  delaySeconds?: number,
) => Promise<void>;

/** The one write most steps of a send make: a change to the transfer's record, under the invocation's lease. */
export type TransferRecordWriter = Pick<TransferStore, 'update'>;

/** The same object version always maps to the same transfer, however many times its event arrives. */
export function transferIdFor(object: ObjectRef): string {
  const version = object.versionId ?? object.eTag ?? `size:${object.size}`;
  return createHash('sha256')
    .update(`${object.bucket}\n${object.key}\n${version}`)
    .digest('hex')
    .slice(0, 32);
}

export function keysOf(r: TransferRecord): Record<string, unknown> {
  // No S3 key: keys can carry patient details. The transfer id leads to the key in the transfer record.
  return {
    transferId: r.transferId,
    mailbox: r.sender,
    messageId: r.messageId,
    localId: r.localId,
  };
}

/** The mailbox a transfer's metrics are counted under: its sender, or the mailbox its key is under. */
export function mailboxOf(record: TransferRecord): string | undefined {
  return record.sender ?? senderFromKey(record.key);
}

/** A log whose every line carries `keys`. */
export function withKeys(log: Log, keys: Record<string, unknown>): Log {
  return {
    debug: (m, e = {}) => log.debug(m, { ...keys, ...e }),
    info: (m, e = {}) => log.info(m, { ...keys, ...e }),
    warn: (m, e = {}) => log.warn(m, { ...keys, ...e }),
    error: (m, e = {}) => log.error(m, { ...keys, ...e }),
  };
}
