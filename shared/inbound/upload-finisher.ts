import { CompleteMultipartUploadCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { resumableSha256 } from '../aws/resumable-sha256.js';
import type { S3ObjectVersion } from '../aws/s3-byte-source.js';
import { isObjectMissing } from '../aws/s3-missing.js';
import { checkpointedHashOptions, type InvocationBudget } from '../jobs/leased-job.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { sha256FromChecksum } from './checksum.js';
import { recordIdOf, type DownloaderSettings, type InboundRecordWriter } from './download-job.js';
import type { InboundRecord } from './inbound-record.js';
import type { StoredMessage } from './stored-message.js';

export interface UploadFinisherDeps {
  /** The SDK client itself: resumableSha256 and isObjectMissing read the stored object through it. */
  readonly s3: S3Client;
  readonly inbound: InboundRecordWriter;
  readonly settings: Pick<DownloaderSettings, 'hashCheckpointBytes' | 'safetyMarginMs'>;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/**
 * Completes the multipart upload (or finds it completed by an invocation that died before recording it), checks the
 * stored object's SHA-256 against the sender's checksum, and records the message as stored.
 */
export class UploadFinisher {
  constructor(
    private readonly deps: UploadFinisherDeps,
    private readonly stored: StoredMessage,
  ) {}

  async finishUpload(
    record: InboundRecord,
    streamedSha: string | undefined,
    budget: InvocationBudget,
  ): Promise<InboundRecord | 'paused'> {
    const { s3 } = this.deps;
    const target = { Bucket: record.bucket!, Key: record.key! };
    let versionId: string | undefined;
    try {
      const completed = await s3.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: record.uploadId,
          MultipartUpload: {
            Parts: (record.parts ?? []).map((p) => ({ PartNumber: p.partNumber, ETag: p.eTag })),
          },
        }),
      );
      versionId = completed.VersionId;
    } catch (error) {
      // Completed by an invocation that died before recording it: the object is there and is this message's.
      if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
      const head = await s3.send(new HeadObjectCommand(target)).catch(async (headError: unknown) => {
        // No object either (S3 says 403 to a role without bucket-wide ListBucket): the upload was aborted, not
        // completed. NoSuchUpload makes the next attempt start the download again.
        if (await isObjectMissing(s3, { bucket: target.Bucket, key: target.Key }, headError)) throw error;
        throw headError;
      });
      if (head.Metadata?.['mex-messageid'] !== encodeURIComponent(record.messageId)) throw error;
      versionId = head.VersionId;
    }
    const head = await s3.send(new HeadObjectCommand({ ...target, VersionId: versionId }));
    let sha256 = streamedSha;
    if (sha256 === undefined) {
      if (head.ContentLength === undefined) throw new Error(`S3 gave no size for ${target.Key}`);
      const stored = {
        bucket: target.Bucket,
        key: target.Key,
        versionId,
        eTag: head.ETag,
        size: head.ContentLength,
      };
      const hashed = await this.hashStoredObject(record, stored, budget);
      if (!hashed.done) return 'paused';
      sha256 = hashed.sha256;
    }
    const expected = sha256FromChecksum(record.contentChecksum);
    const checksumVerified = expected === undefined ? undefined : expected === sha256;
    if (checksumVerified === false) {
      this.deps.log.error('stored message does not match its mex-Content-Checksum', {
        mailbox: record.mailboxId,
        messageId: record.messageId,
      });
      this.deps.metrics.add('ChecksumMismatches', 'Count', 1, record.mailboxId);
    }
    const changes: Partial<InboundRecord> = {
      status: 'stored',
      versionId,
      size: head.ContentLength ?? 0,
      sha256,
      checksumVerified,
      storedAt: this.deps.now().toISOString(),
      uploadId: undefined,
      parts: undefined,
      hashProgress: undefined,
    };
    return this.stored.markStored(record, changes, budget);
  }

  /** The SHA-256 of a resumed download, read back from S3; it too hands over to a continuation when time runs out. */
  private async hashStoredObject(record: InboundRecord, object: S3ObjectVersion, budget: InvocationBudget) {
    const { inbound, settings, log } = this.deps;
    const keys = { mailbox: record.mailboxId, messageId: record.messageId };
    const hashed = await resumableSha256(
      this.deps.s3,
      object,
      checkpointedHashOptions(budget, settings, {
        from: record.hashProgress,
        save: (hashProgress) => inbound.update(recordIdOf(record), budget.invocationId, { hashProgress }),
        onRestart: (reason) =>
          log.warn('hashing the stored message again from its first byte', { ...keys, reason }),
      }),
    );
    if (!hashed.done) {
      log.info('time budget spent while hashing the stored message; a continuation carries on', {
        ...keys,
        hashedBytes: hashed.progress.bytes,
        size: object.size,
      });
    }
    return hashed;
  }
}
