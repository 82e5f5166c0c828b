import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { resumableSha256 } from '../aws/resumable-sha256.js';
import { quoteETag, s3ByteSource } from '../aws/s3-byte-source.js';
import { isObjectMissing } from '../aws/s3-missing.js';
import { outboundStatusEvent } from '../events/outbound-status.js';
import { publishPendingEvents } from '../events/pending.js';
import type { EventPublisher } from '../events/publisher.js';
import {
  MeshAuthenticationError,
  MeshConfigurationError,
  MeshError,
  failureCode,
  MeshNotFoundError,
  MeshRejectedError,
  sendChunked,
  type MeshClient,
} from '../mesh/index.js';
import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import { invocationDeadline } from '../runtime/deadline.js';
import { RecordBusyError } from '../state/leased-store.js';
import { LeaseLostError, type TransferStore } from '../state/transfer-store.js';
import { resolveAddress, senderFromKey, type OutboundRoute } from './addressing.js';
import { lookForSentMessage, RecoveryError } from './unknown-outcome.js';
import type { ObjectRef, TransferRecord } from './transfer.js';

export interface OutboundSettings {
  /** Sending mailboxes this deployment serves. */
  readonly chunkBytes: number;
  readonly compress: boolean;
  /**
   * zlib level for transport gzip. Level 3 compresses CSV-like data about as well as 6 (40% against 37% here) at
   * about 2.5 times the speed, which matters on a fraction of a vCPU (see BENCHMARKS.md).
   */
  readonly compressionLevel: number;
  readonly maxBytes: number;
  /** Only for local MESH servers: allow chunks under MESH's 5 MB minimum. */
  readonly allowSmallChunks?: boolean;
  /** Time kept back at the end of an invocation for checkpointing and handing over. */
  readonly safetyMarginMs: number;
  /** A resumed send's SHA-256 of its object saves its progress every so many bytes. */
  readonly hashCheckpointBytes: number;
  /**
   * How long past the invocation's own deadline its lease lasts. The send queue's visibility timeout must exceed
   * the function timeout plus this, so a crashed invocation's message comes back only once its lease has lapsed.
   */
  readonly leaseGraceMs: number;
  /** When the first delivery check is due after acceptance (MESH rarely has news sooner than a minute). */
  readonly firstTrackingDelayMs: number;
  /** The send queue's maxReceiveCount: on the last attempt a failing transfer is marked `stalled`. */
  readonly maxAttempts: number;
  /**
   * After a first POST whose outcome is unknown, MESH is asked again after each of these delays (seconds, each at
   * most SQS's 900) before the message counts as never created and is sent again: tracking can lag behind a send.
   */
  readonly recoveryRecheckSeconds: readonly number[];
}

export interface OutboundDeps {
  readonly s3: S3Client;
  readonly transfers: TransferStore;
  readonly statusEvents: EventPublisher;
  /**
   * Puts a message on the send queue that carries the transfer on in a fresh invocation, after a delay if given, in
   * its mailbox's message group.
   */
  readonly enqueueContinuation: (
    transferId: string,
    mailboxId: string | undefined,
    delaySeconds?: number,
  ) => Promise<void>;
  readonly meshClient: (mailboxId: string) => Promise<MeshClient>;
  /** The routes of a registered sending mailbox; undefined for a mailbox this deployment does not serve. */
  readonly sendingMailbox: (
    mailboxId: string,
  ) => Promise<{ readonly routes: readonly OutboundRoute[] } | undefined>;
  readonly settings: OutboundSettings;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now?: () => Date;
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

export interface InvocationBudget {
  readonly invocationId: string;
  /** How many times the queue has delivered this message, this time included. */
  readonly receiveCount: number;
  remainingMs(): number;
}

/** The same object version always maps to the same transfer, however many times its event arrives. */
export function transferIdFor(object: ObjectRef): string {
  const version = object.versionId ?? object.eTag ?? `size:${object.size}`;
  return createHash('sha256')
    .update(`${object.bucket}\n${object.key}\n${version}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * Moves one outbound transfer as far as this invocation's time allows: validate, send chunk by chunk with a
 * checkpoint after each, and hand the rest to a continuation message. Safe to run for the same object any number
 * of times, concurrently: the lease and the checkpoints make the MESH message happen exactly once.
 */
export class OutboundSender {
  private readonly now: () => Date;

  constructor(private readonly deps: OutboundDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async process(task: SendTask, budget: InvocationBudget): Promise<SendOutcome> {
    const { transfers } = this.deps;
    let transferId: string;
    if (task.kind === 'object') {
      transferId = transferIdFor(task.object);
      await transfers.getOrCreate(transferId, task.object, (r) =>
        outboundStatusEvent(r, this.now().toISOString()),
      );
    } else {
      transferId = task.transferId;
    }
    const log = this.withKeys({ transferId });
    const lease = await transfers.acquireLease(
      transferId,
      budget.invocationId,
      budget.remainingMs() + this.deps.settings.leaseGraceMs,
    );
    if (lease.kind === 'missing') {
      log.warn('continuation for a transfer that does not exist; dropped');
      return 'duplicate';
    }
    if (lease.kind !== 'acquired') {
      // Only a finished transfer's leftover events are ours to publish; a live holder publishes its own.
      if (lease.kind === 'final') await this.flushEvents(lease.record);
      log.info(
        lease.kind === 'final' ? 'transfer already finished' : 'transfer is held by another invocation',
        {
          status: lease.record.status,
        },
      );
      if (lease.kind === 'held') throw new RecordBusyError(transferId);
      return 'duplicate';
    }
    let record = lease.record;
    try {
      await this.flushEvents(record);
      if (record.status === 'received' || !record.address) {
        const prepared = await this.prepare(record, budget);
        if (prepared.status === 'rejected') return 'rejected';
        record = prepared;
      } else if (record.status === 'stalled') {
        record = await this.changeStatus(record, budget, { status: 'sending' });
      }
      return await this.send(record, budget);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        log.warn('lost the lease mid-transfer; leaving it to the new holder');
        return 'busy';
      }
      const current = (await transfers.get(transferId)) ?? record;
      const final = await this.provenFinal(current, error);
      if (final === 'accepted') {
        const finished = await this.finishSend(current, budget, undefined).catch(() => undefined);
        if (finished) return finished;
      }
      if (final && final !== 'accepted') {
        await this.changeStatus(current, budget, {
          status: final.status,
          errorCode: final.code,
          errorText: final.text,
          finishedAt: this.now().toISOString(),
        });
        this.deps.metrics.add(
          final.status === 'rejected' ? METRICS.transfersRejected : METRICS.transfersFailed,
          'Count',
          1,
          mailboxOf(current),
        );
        this.withKeys(keysOf(current)).error(`transfer ${final.status}`, {
          reason: final.text,
          code: final.code,
        });
        return final.status;
      }
      this.deps.metrics.add(METRICS.transferRetries, 'Count', 1, mailboxOf(current));
      const failure = { errorCode: failureCode(error), errorText: describe(error) };
      if (budget.receiveCount >= this.deps.settings.maxAttempts) {
        // The queue is about to dead-letter this message: say so in the record and to the status consumers.
        // `stalled` is not final: a redrive from the DLQ picks the transfer up where it stopped.
        this.withKeys(keysOf(current)).error(
          'transfer stalled: retries exhausted, message going to the DLQ',
          errorFields(error),
        );
        await this.changeStatus(current, budget, { status: 'stalled', ...failure }).catch(() => undefined);
      } else {
        this.withKeys(keysOf(current)).warn(
          'transfer hit a transient failure; it will be retried',
          errorFields(error),
        );
        await transfers.update(transferId, budget.invocationId, failure).catch(() => undefined);
      }
      await transfers.releaseLease(transferId, budget.invocationId);
      throw error;
    }
  }

  /**
   * Whether a failure ends the transfer. `failed` needs proof that MESH did not accept the message: a refusal of the
   * final chunk is settled by the MESH client (tracking); an S3 failure after the final chunk may have gone (a retry
   * that re-reads a deleted object) is settled here by tracking too. When tracking cannot answer, it is retried.
   */
  private async provenFinal(
    current: TransferRecord,
    error: unknown,
  ): Promise<ReturnType<typeof finalFailure> | 'accepted'> {
    const final =
      finalFailure(error) ??
      ((await isObjectMissing(this.deps.s3, current, error))
        ? { status: 'failed' as const, text: 'the S3 object was deleted before it could be sent' }
        : undefined);
    const finalChunkMayHaveGone =
      current.messageId !== undefined &&
      current.totalChunks !== undefined &&
      current.chunksSent >= current.totalChunks - 1;
    if (final?.status !== 'failed' || error instanceof MeshError || !finalChunkMayHaveGone) return final;
    try {
      const client = await this.deps.meshClient(current.sender!);
      const tracking = await client.track(current.messageId!);
      if (tracking.status === 'accepted' || tracking.status === 'acknowledged') return 'accepted';
      return tracking.status === 'uploading' || tracking.statusSuccess === false ? final : undefined;
    } catch (trackingError) {
      this.withKeys(keysOf(current)).warn(
        'could not tell from tracking whether the final chunk was stored; retrying',
        errorFields(trackingError),
      );
      return undefined;
    }
  }

  /** Reads the object's metadata and decides where it goes; bad input ends here, before a byte is sent. */
  private async prepare(record: TransferRecord, budget: InvocationBudget): Promise<TransferRecord> {
    const head = await this.deps.s3.send(
      new HeadObjectCommand({
        Bucket: record.bucket,
        Key: record.key,
        VersionId: record.versionId,
        IfMatch: record.versionId ? undefined : quoteETag(record.eTag),
      }),
    );
    const size = head.ContentLength ?? record.size;
    const senderId = senderFromKey(record.key);
    const sender = senderId === undefined ? undefined : await this.deps.sendingMailbox(senderId);
    const result = resolveAddress({
      key: record.key,
      size,
      metadata: head.Metadata ?? {},
      mailboxes: sender ? [senderId!] : [],
      routes: sender?.routes ?? [],
      transferId: record.transferId,
      maxBytes: this.deps.settings.maxBytes,
      today: this.now(),
    });
    if (!result.ok) {
      const text = result.reasons.join('; ');
      this.deps.metrics.add(METRICS.transfersRejected, 'Count', 1, mailboxOf(record));
      this.withKeys(keysOf(record)).warn('transfer rejected', { reasons: result.reasons });
      return this.changeStatus(record, budget, {
        status: 'rejected',
        sender: senderFromKey(record.key),
        errorText: text,
        finishedAt: this.now().toISOString(),
      });
    }
    const a = result.address;
    const chunkBytes = this.deps.settings.chunkBytes;
    return this.changeStatus(record, budget, {
      status: 'sending',
      size,
      sender: a.from,
      recipient: a.to,
      workflowId: a.workflowId,
      localId: a.localId,
      subject: a.subject,
      fileName: a.fileName,
      chunkBytes,
      totalChunks: Math.ceil(size / chunkBytes),
      eTag: record.eTag ?? head.ETag?.replace(/"/g, ''),
      address: a,
    });
  }

  private async send(start: TransferRecord, budget: InvocationBudget): Promise<SendOutcome> {
    const { transfers, settings } = this.deps;
    let record = start;
    const log = this.withKeys(keysOf(record));
    const client = await this.deps.meshClient(record.sender!);

    if (!record.messageId && record.postStartedAt) {
      const recovered = await this.recoverUnknownPost(record, client, budget);
      if (recovered === 'recheck') return 'paused';
      record = recovered;
    }
    if (record.totalChunks !== undefined && record.chunksSent >= record.totalChunks) {
      return this.finishSend(record, budget, undefined);
    }
    if (!record.messageId) {
      record = await transfers.update(record.transferId, budget.invocationId, {
        postStartedAt: this.now().toISOString(),
      });
    }

    const address = record.address;
    if (!address) throw new RecoveryError('transfer is sending but has no address recorded');
    const started = Date.now();
    let slowestChunkMs = 0;
    let lastChunkAt = Date.now();
    const result = await sendChunked(client, s3ByteSource(this.deps.s3, record), address, {
      signal: invocationDeadline(budget),
      chunkBytes: record.chunkBytes,
      compress: settings.compress,
      compressionLevel: settings.compressionLevel,
      allowSmallChunks: settings.allowSmallChunks,
      resume: record.messageId
        ? { messageId: record.messageId, nextChunk: record.chunksSent + 1 }
        : undefined,
      shouldContinue: () => budget.remainingMs() > settings.safetyMarginMs + 2 * slowestChunkMs,
      onChunk: async (checkpoint) => {
        const chunkMs = Date.now() - lastChunkAt;
        lastChunkAt = Date.now();
        slowestChunkMs = Math.max(slowestChunkMs, chunkMs);
        record = await transfers.update(record.transferId, budget.invocationId, {
          messageId: checkpoint.messageId,
          chunksSent: checkpoint.chunkNumber,
          bytesSent: checkpoint.bytesSent,
          ...(checkpoint.chunkNumber === 1 ? { sender: record.sender, localId: record.localId } : {}),
        });
        this.deps.metrics.add(METRICS.chunksSent, 'Count', 1, mailboxOf(record));
        this.deps.metrics.add(
          METRICS.bytesSent,
          'Bytes',
          checkpoint.bytesSent - (checkpoint.chunkNumber - 1) * record.chunkBytes!,
          mailboxOf(record),
        );
        log.debug('chunk sent', {
          messageId: checkpoint.messageId,
          chunk: checkpoint.chunkNumber,
          of: checkpoint.totalChunks,
        });
      },
    });
    this.deps.metrics.add('SendDuration', 'Milliseconds', Date.now() - started, mailboxOf(record));
    if (result.status === 'paused') {
      await transfers.releaseLease(record.transferId, budget.invocationId);
      await this.deps.enqueueContinuation(record.transferId, mailboxOf(record));
      log.info('time budget spent; handed over to a continuation', {
        messageId: result.messageId,
        nextChunk: result.nextChunk,
        totalChunks: result.totalChunks,
      });
      return 'paused';
    }
    return this.finishSend(record, budget, result.sha256);
  }

  /**
   * Every chunk is with MESH. A send split across invocations has no SHA-256 of the original (Node's hash state
   * cannot be carried over), so it reads the object again for one, in as many invocations as that takes.
   */
  private async finishSend(
    record: TransferRecord,
    budget: InvocationBudget,
    streamedSha: string | undefined,
  ): Promise<SendOutcome> {
    if (streamedSha !== undefined || record.sha256 !== undefined) {
      return this.markAccepted(record, budget, streamedSha);
    }
    const hashed = await this.hashOriginal(record, budget);
    if (!hashed.done) {
      await this.deps.transfers.releaseLease(record.transferId, budget.invocationId);
      await this.deps.enqueueContinuation(record.transferId, mailboxOf(record));
      return 'paused';
    }
    return this.markAccepted(record, budget, hashed.sha256);
  }

  /**
   * MESH has every chunk, so reading the object again may cost the event its SHA-256 but never the transfer its
   * acceptance: an object deleted or replaced since, or reads still failing on the last attempt, give no digest.
   */
  private async hashOriginal(
    record: TransferRecord,
    budget: InvocationBudget,
  ): Promise<{ done: true; sha256?: string } | { done: false }> {
    const log = this.withKeys(keysOf(record));
    try {
      const hashed = await resumableSha256(this.deps.s3, record, {
        checkpointBytes: this.deps.settings.hashCheckpointBytes,
        from: record.hashProgress,
        onCheckpoint: async (hashProgress) => {
          await this.deps.transfers.update(record.transferId, budget.invocationId, { hashProgress });
        },
        shouldPause: () => budget.remainingMs() < this.deps.settings.safetyMarginMs,
        signal: invocationDeadline(budget),
        onRestart: (reason) => log.warn('hashing the sent object again from its first byte', { reason }),
      });
      if (hashed.done) return hashed;
      log.info('time budget spent while hashing the sent object; a continuation carries on', {
        hashedBytes: hashed.progress.bytes,
        bytes: record.size,
      });
      return { done: false };
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      const lastAttempt = budget.receiveCount >= this.deps.settings.maxAttempts;
      if (!objectGone(error) && !isClientError(error) && !lastAttempt) throw error;
      log.warn('the sent object could not be read again; accepted without its SHA-256', errorFields(error));
      return { done: true };
    }
  }

  private async markAccepted(
    record: TransferRecord,
    budget: InvocationBudget,
    sha256?: string,
  ): Promise<SendOutcome> {
    const done = await this.changeStatus(record, budget, {
      status: 'accepted',
      sha256: sha256 ?? record.sha256,
      hashProgress: undefined,
      acceptedAt: this.now().toISOString(),
      errorCode: undefined,
      errorText: undefined,
      sender: record.sender,
      trackingChecks: 0,
      nextTrackingAt: this.now().getTime() + this.deps.settings.firstTrackingDelayMs,
    });
    await this.deps.transfers.releaseLease(done.transferId, budget.invocationId);
    this.deps.metrics.add(METRICS.transfersAccepted, 'Count', 1, mailboxOf(done));
    this.deps.metrics.add('BytesAccepted', 'Bytes', done.size, mailboxOf(done));
    this.withKeys(keysOf(done)).info('transfer accepted by MESH', {
      chunks: done.totalChunks,
      bytes: done.size,
    });
    return 'accepted';
  }

  /**
   * The first POST started but its message id was never recorded: MESH may hold the message. It is looked for two
   * ways, by its local id (unique to this transfer) through MESH's deprecated tracking endpoint and in the outbox
   * listing, and looked for again after each recheck delay, because tracking can lag behind a send. The window is
   * measured by the clock from the first look; a delivery that arrives before the next look is due does nothing.
   * Only when the window has passed, every look found nothing and one of them can prove absence is the message
   * sent again; that re-send is counted and alarmed, and bounded, so an outcome that stays unknown cannot loop.
   */
  private async recoverUnknownPost(
    record: TransferRecord,
    client: MeshClient,
    budget: InvocationBudget,
  ): Promise<TransferRecord | 'recheck'> {
    const log = this.withKeys(keysOf(record));
    const { transfers, settings } = this.deps;
    const now = this.now().getTime();
    if (record.nextRecheckAt !== undefined && now < record.nextRecheckAt) {
      // A duplicate notification or a redelivery inside the window: the scheduled look carries on, not this one.
      await transfers.releaseLease(record.transferId, budget.invocationId);
      log.info('the next look for the unfinished first POST is not due yet', { dueAt: record.nextRecheckAt });
      return 'recheck';
    }
    const evidence = await lookForSentMessage(client, record);
    if (evidence.kind === 'ambiguous') throw new RecoveryError(evidence.reason);
    if (evidence.kind === 'found') {
      const t = evidence.tracking;
      log.warn('recovered the message id of a first POST whose answer was lost', {
        messageId: t.messageId,
        foundBy: evidence.foundBy,
      });
      this.deps.metrics.add('RecoveredSends', 'Count', 1, mailboxOf(record));
      return transfers.update(record.transferId, budget.invocationId, {
        messageId: t.messageId,
        chunksSent: 1,
        bytesSent: Math.min(record.size, record.chunkBytes ?? record.size),
        sender: record.sender,
        localId: record.localId,
        ...CLEAR_RECOVERY,
      });
    }
    const delays = settings.recoveryRecheckSeconds;
    const checks = (record.recoveryChecks ?? 0) + 1;
    const startedAt = record.recoveryStartedAt ? Date.parse(record.recoveryStartedAt) : now;
    const windowEnds = startedAt + delays.reduce((a, b) => a + b, 0) * 1000;
    if (checks <= delays.length || now < windowEnds) {
      const delaySeconds = Math.min(
        900,
        checks <= delays.length ? delays[checks - 1]! : Math.ceil((windowEnds - now) / 1000),
      );
      await transfers.update(record.transferId, budget.invocationId, {
        recoveryChecks: checks,
        recoveryStartedAt: new Date(startedAt).toISOString(),
        nextRecheckAt: now + delaySeconds * 1000,
      });
      await transfers.releaseLease(record.transferId, budget.invocationId);
      await this.deps.enqueueContinuation(record.transferId, mailboxOf(record), delaySeconds);
      log.info('no MESH message yet from the unfinished first POST; looking again later', {
        check: checks,
        delaySeconds,
        ways: evidence.ways,
      });
      return 'recheck';
    }
    if (!evidence.proven) {
      throw new RecoveryError(
        `no MESH message was found for local id ${record.localId} over the recheck window, but no look could ` +
          `prove there is none (${evidence.ways.join(', ') || 'no way answered'}); check MESH tracking before ` +
          'anything is sent again',
      );
    }
    const resends = record.unknownResends ?? 0;
    if (resends >= MAX_UNKNOWN_OUTCOME_RESENDS) {
      throw new RecoveryError(
        `the first POST's outcome was unknown ${resends + 1} times; check MESH tracking for local id ` +
          `${record.localId} before anything is sent again`,
      );
    }
    this.deps.metrics.add(METRICS.unknownOutcomeResends, 'Count', 1, mailboxOf(record));
    log.warn('no MESH message from the unfinished first POST after every look; sending it again', {
      checks,
      ways: evidence.ways,
      postStartedAt: record.postStartedAt,
    });
    return transfers.update(record.transferId, budget.invocationId, {
      postStartedAt: undefined,
      unknownResends: resends + 1,
      ...CLEAR_RECOVERY,
    });
  }

  private async changeStatus(
    record: TransferRecord,
    budget: InvocationBudget,
    changes: Partial<TransferRecord>,
  ): Promise<TransferRecord> {
    const at = this.now().toISOString();
    const event = outboundStatusEvent({ ...record, ...changes } as TransferRecord, at);
    const updated = await this.deps.transfers.update(record.transferId, budget.invocationId, changes, event);
    await this.flushEvents(updated);
    return updated;
  }

  /** Publishes status events recorded with a status change, then marks each one done. */
  private async flushEvents(record: TransferRecord): Promise<void> {
    await publishPendingEvents(
      record,
      record.transferId,
      record.transferId,
      this.deps.statusEvents,
      this.deps.transfers,
    );
  }

  private withKeys(keys: Record<string, unknown>) {
    const { log } = this.deps;
    return {
      debug: (m: string, e: Record<string, unknown> = {}) => log.debug(m, { ...keys, ...e }),
      info: (m: string, e: Record<string, unknown> = {}) => log.info(m, { ...keys, ...e }),
      warn: (m: string, e: Record<string, unknown> = {}) => log.warn(m, { ...keys, ...e }),
      error: (m: string, e: Record<string, unknown> = {}) => log.error(m, { ...keys, ...e }),
    };
  }
}

function keysOf(r: TransferRecord): Record<string, unknown> {
  // No S3 key: keys can carry patient details. The transfer id leads to the key in the transfer record.
  return {
    transferId: r.transferId,
    mailbox: r.sender,
    messageId: r.messageId,
    localId: r.localId,
  };
}

/** Re-sends after an unknown first-POST outcome one transfer may make before a person must look. */
const MAX_UNKNOWN_OUTCOME_RESENDS = 3;

const CLEAR_RECOVERY = {
  recoveryChecks: undefined,
  recoveryStartedAt: undefined,
  nextRecheckAt: undefined,
} as const;

/** Failures that retrying cannot fix end the transfer; everything else is retried by the queue. */
function finalFailure(
  error: unknown,
): { status: 'failed' | 'rejected'; code?: string; text: string } | undefined {
  if (error instanceof MeshConfigurationError) return { status: 'rejected', text: error.message };
  if (
    error instanceof MeshRejectedError ||
    error instanceof MeshAuthenticationError ||
    error instanceof MeshNotFoundError
  ) {
    return { status: 'failed', code: error.code, text: error.description ?? error.message };
  }
  const gone = objectGone(error);
  if (gone === 'deleted')
    return { status: 'failed', text: 'the S3 object was deleted before it could be sent' };
  if (gone === 'replaced') {
    return { status: 'failed', text: 'the S3 object was replaced while it was being sent; upload it again' };
  }
  return undefined;
}

/** Whether S3's answer says the object version read is gone (deleted, or replaced under a pinned ETag). */
function objectGone(error: unknown): 'deleted' | 'replaced' | undefined {
  const name = (error as { name?: string }).name;
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion') return 'deleted';
  if (name === 'PreconditionFailed' || httpStatusOf(error) === 412) return 'replaced';
  return undefined;
}

/**
 * S3 refused the read itself (a 403 for a version deleted from under a role without ListBucket, 404, 412): trying
 * again will not change its answer.
 */
function isClientError(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408;
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function describe(error: unknown): string {
  if (error instanceof MeshError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The mailbox a transfer's metrics are counted under: its sender, or the mailbox its key is under. */
function mailboxOf(record: TransferRecord): string | undefined {
  return record.sender ?? senderFromKey(record.key);
}
