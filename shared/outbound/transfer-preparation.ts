import type { HeadObjectCommandInput, HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { quoteETag } from '../aws/s3-byte-source.js';
import type { InvocationBudget } from '../jobs/leased-job.js';
import { METRICS } from '../observability/metric-names.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { resolveAddress, senderFromKey, type OutboundRoute } from './addressing.js';
import { keysOf, mailboxOf, withKeys, type OutboundSettings } from './send-job.js';
import type { StatusChanges } from './status-changes.js';
import type { TransferRecord } from './transfer.js';

export interface TransferPreparationDeps {
  /** Reads the object's size, metadata and ETag (a HeadObject). */
  readonly headObject: (
    input: HeadObjectCommandInput,
  ) => Promise<Pick<HeadObjectCommandOutput, 'ContentLength' | 'Metadata' | 'ETag'>>;
  /** The routes of a registered sending mailbox; undefined for a mailbox this deployment does not serve. */
  readonly sendingMailbox: (
    mailboxId: string,
  ) => Promise<{ readonly routes: readonly OutboundRoute[] } | undefined>;
  readonly status: Pick<StatusChanges, 'change'>;
  readonly settings: Pick<OutboundSettings, 'maxBytes' | 'chunkBytes'>;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/** Reads the object's metadata and decides where it goes; bad input ends here, before a byte is sent. */
export class TransferPreparation {
  constructor(private readonly deps: TransferPreparationDeps) {}

  async prepare(record: TransferRecord, budget: InvocationBudget): Promise<TransferRecord> {
    const head = await this.deps.headObject({
      Bucket: record.bucket,
      Key: record.key,
      VersionId: record.versionId,
      IfMatch: record.versionId ? undefined : quoteETag(record.eTag),
    });
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
      today: this.deps.now(),
    });
    if (!result.ok) {
      const text = result.reasons.join('; ');
      this.deps.metrics.add(METRICS.transfersRejected, 'Count', 1, mailboxOf(record));
      withKeys(this.deps.log, keysOf(record)).warn('transfer rejected', { reasons: result.reasons });
      return this.deps.status.change(record, budget, {
        status: 'rejected',
        sender: senderFromKey(record.key),
        errorText: text,
        finishedAt: this.deps.now().toISOString(),
      });
    }
    const a = result.address;
    const chunkBytes = this.deps.settings.chunkBytes;
    return this.deps.status.change(record, budget, {
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
}
