import type { S3ObjectVersion } from '../aws/s3-byte-source.js';
import type { InvocationBudget } from '../jobs/leased-job.js';
import {
  chooseTransportEncoding,
  sendChunked,
  type ByteSource,
  type ChunkedSendResult,
  type MeshClient,
  type TransportEncoding,
} from '../mesh/index.js';
import { METRICS } from '../observability/metric-names.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { invocationDeadline } from '../runtime/deadline.js';
import { keysOf, mailboxOf, withKeys, type OutboundSettings, type TransferRecordWriter } from './send-job.js';
import type { TransferRecord } from './transfer.js';
import { RecoveryError } from './unknown-outcome.js';

export interface ChunkSenderDeps {
  readonly transfers: TransferRecordWriter;
  /** Ranged reads of the object version being sent. */
  readonly byteSource: (object: S3ObjectVersion) => ByteSource;
  readonly settings: Pick<
    OutboundSettings,
    'compress' | 'compressionLevel' | 'compressionWorkers' | 'allowSmallChunks' | 'safetyMarginMs'
  >;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/** What the chunk loop hands on: the record as last checkpointed, and how far the send got. */
export interface SentChunks {
  readonly record: TransferRecord;
  readonly result: ChunkedSendResult;
}

/**
 * Sends the transfer's chunks to MESH from where its record says, checkpointing after each one, until every chunk is
 * sent or the time left would not cover the next chunk twice over.
 */
export class ChunkSender {
  constructor(private readonly deps: ChunkSenderDeps) {}

  async sendChunks(start: TransferRecord, client: MeshClient, budget: InvocationBudget): Promise<SentChunks> {
    const { transfers, settings, metrics } = this.deps;
    let record = start;
    const log = withKeys(this.deps.log, keysOf(record));
    const source = this.deps.byteSource(record);
    if (!record.messageId) {
      // Marks the first POST as begun: if its answer is lost, the next attempt knows to look for its message. The
      // encoding goes with it, so every chunk of the message, in this invocation or a later one, uses chunk 1's.
      const transportEncoding = record.transportEncoding ?? (await this.chooseEncoding(source, log));
      record = await transfers.update(record.transferId, budget.invocationId, {
        postStartedAt: this.deps.now().toISOString(),
        transportEncoding,
      });
    }

    const address = record.address;
    if (!address) throw new RecoveryError('transfer is sending but has no address recorded');
    const started = Date.now();
    let slowestChunkMs = 0;
    let lastChunkAt = Date.now();
    const result = await sendChunked(client, source, address, {
      signal: invocationDeadline(budget),
      chunkBytes: record.chunkBytes,
      compress: sendsGzipped(record, settings.compress),
      compressionLevel: settings.compressionLevel,
      compressionWorkers: settings.compressionWorkers,
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
        metrics.add(METRICS.chunksSent, 'Count', 1, mailboxOf(record));
        metrics.add(
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
    metrics.add('SendDuration', 'Milliseconds', Date.now() - started, mailboxOf(record));
    return { record, result };
  }

  /** Gzip, unless compression is off or samples of the object show it would save too little to be worth it. */
  private async chooseEncoding(source: ByteSource, log: Log): Promise<TransportEncoding> {
    const { compress, compressionLevel } = this.deps.settings;
    const choice = await chooseTransportEncoding(source, { compress, level: compressionLevel });
    if (choice.sample) {
      log.info(choice.encoding === 'gzip' ? 'sending gzipped' : 'sending plain: it does not compress', {
        sampledRatio: Number(choice.sample.ratio.toFixed(3)),
        sampledBytes: choice.sample.sampledBytes,
      });
    }
    return choice.encoding;
  }
}

/**
 * Whether the transfer's chunks go gzipped: as its record says, or, for a record written before the choice was
 * recorded (its chunk 1 went as COMPRESS said then), as configured.
 */
export function sendsGzipped(record: TransferRecord, compress: boolean): boolean {
  return record.transportEncoding === undefined ? compress : record.transportEncoding === 'gzip';
}
