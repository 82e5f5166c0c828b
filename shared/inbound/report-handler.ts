import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { InvocationBudget } from '../jobs/leased-job.js';
import type { MessageMetadata } from '../mesh/index.js';
import { METRICS } from '../observability/metric-names.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import type { DeliveryOutcomes } from '../outbound/delivery-outcomes.js';
import type { TransferStore } from '../state/transfer-store.js';
import type { InboundRecord } from './inbound-record.js';
import { objectMetadata } from './object-metadata.js';
import type { StoredMessage } from './stored-message.js';

export interface ReportHandlerDeps {
  readonly transfers: Pick<TransferStore, 'findByMessageId' | 'findByLocalId'>;
  readonly outcomes: Pick<DeliveryOutcomes, 'undeliverable'>;
  /** Writes one S3 object (a PutObject) and answers with its version. */
  readonly putObject: (input: PutObjectCommandInput) => Promise<{ readonly VersionId?: string }>;
  readonly bucket: string;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/** A REPORT: mark the outbound transfer it concerns, keep the report as JSON, and announce it like any message. */
export class ReportHandler {
  constructor(
    private readonly deps: ReportHandlerDeps,
    private readonly stored: StoredMessage,
  ) {}

  async storeReport(record: InboundRecord, metadata: MessageMetadata, budget: InvocationBudget) {
    const linked = metadata.linkedMessageId
      ? await this.deps.transfers.findByMessageId(metadata.linkedMessageId)
      : metadata.localId
        ? (await this.deps.transfers.findByLocalId(record.mailboxId, metadata.localId))[0]
        : undefined;
    // MESH reports to the sender's own inbox: a report elsewhere says nothing about another mailbox's transfer.
    const transfer = linked?.sender === record.mailboxId ? linked : undefined;
    const description = metadata.statusDescription ?? `MESH report code ${metadata.statusCode ?? 'unknown'}`;
    if (transfer) await this.deps.outcomes.undeliverable(transfer, metadata.statusCode, description);
    else {
      this.deps.log.warn('MESH report links to no known outbound transfer', {
        mailbox: record.mailboxId,
        messageId: record.messageId,
        linkedMessageId: metadata.linkedMessageId,
        localId: metadata.localId,
        code: metadata.statusCode,
      });
    }
    this.deps.metrics.add(METRICS.inboundReports, 'Count', 1, record.mailboxId);
    const report = {
      code: metadata.statusCode,
      event: metadata.statusEvent,
      description,
      linkedMessageId: metadata.linkedMessageId,
      linkedTransferId: transfer?.transferId,
    };
    const body = Buffer.from(
      JSON.stringify({ messageId: record.messageId, ...report, headers: metadata.mexHeaders }, null, 2),
    );
    const key = `inbound/${record.mailboxId}/reports/${record.messageId}.json`;
    const put = await this.deps.putObject({
      Bucket: this.deps.bucket,
      Key: key,
      Body: body,
      ContentType: 'application/json',
      Metadata: objectMetadata(metadata),
    });
    return this.stored.markStored(
      record,
      {
        status: 'stored',
        messageType: 'REPORT',
        sender: metadata.from,
        workflowId: metadata.workflowId,
        subject: metadata.subject,
        localId: metadata.localId,
        fileName: `${record.messageId}.json`,
        contentType: 'application/json',
        report,
        bucket: this.deps.bucket,
        key,
        versionId: put.VersionId,
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        storedAt: this.deps.now().toISOString(),
      },
      budget,
    );
  }
}
