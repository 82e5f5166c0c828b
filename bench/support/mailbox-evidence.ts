import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { monitorEventLoopDelay } from 'node:perf_hooks';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { InboxListing } from '../../local/mesh-server/inbox-listings.js';
import type { LocalPipeline } from '../../local/pipeline/local-pipeline.js';
import { percentile } from './mailbox-figures.js';
import type { PlannedMessage } from './mailbox-plan.js';
import { mapWithConcurrency } from '../../shared/runtime/concurrency.js';

/*
 * What the mailboxes benchmark reads from outside the pipeline: the consumer's receipts, the inbound bucket, the
 * download queue's depth and the MESH server's record of polls and requests.
 */

export interface Receipt {
  readonly messageId: string;
  readonly atMs: number;
  readonly sqsMessageId: string;
  readonly event: InboundEventV1;
}

export interface Seeded {
  readonly plan: PlannedMessage;
  readonly arrivedAtMs: number;
}

/** The download queue's messages: waiting, in flight, delayed (deferred tasks wait delayed). */
export async function downloadQueueDepth(pipeline: LocalPipeline): Promise<string> {
  const { Attributes = {} } = await pipeline.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: pipeline.resources.queue('download').url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    `${Attributes.ApproximateNumberOfMessages ?? '?'} waiting, ` +
    `${Attributes.ApproximateNumberOfMessagesNotVisible ?? '?'} in flight, ` +
    `${Attributes.ApproximateNumberOfMessagesDelayed ?? '?'} delayed`
  );
}

export function progressLine(
  elapsedMs: number,
  seeded: ReadonlyMap<string, Seeded>,
  firstReceipt: ReadonlyMap<string, number>,
  total: number,
  lag: ReturnType<typeof monitorEventLoopDelay>,
): string {
  let busy = 0;
  let quiet = 0;
  for (const id of firstReceipt.keys()) {
    const s = seeded.get(id);
    if (s?.plan.busy) busy++;
    else if (s) quiet++;
  }
  return (
    `  ${(elapsedMs / 1000).toFixed(0).padStart(4)} s: ${seeded.size}/${total} seeded, ${busy + quiet} announced ` +
    `(busy ${busy}, quiet ${quiet}); event loop delay max ${(lag.max / 1e6).toFixed(0)} ms`
  );
}

/** What the consumer's receipts say about each seeded message. */
export function checkReceipts(seeded: ReadonlyMap<string, Seeded>, receipts: readonly Receipt[]) {
  const byMessage = new Map<string, Receipt[]>();
  for (const r of receipts) {
    let list = byMessage.get(r.messageId);
    if (!list) byMessage.set(r.messageId, (list = []));
    list.push(r);
  }
  let delivered = 0;
  let duplicated = 0;
  let redelivered = 0;
  let unexpected = 0;
  let mismatched = 0;
  for (const [messageId, list] of byMessage) {
    const s = seeded.get(messageId);
    if (!s) {
      unexpected++;
      continue;
    }
    delivered++;
    // A second SQS message announcing the same MESH message is a duplicate; the same SQS message received again
    // (a lapsed visibility timeout, a lost delete) is the queue's redelivery, which a consumer sees as such.
    const publishes = new Set(list.map((r) => r.sqsMessageId)).size;
    duplicated += publishes - 1;
    redelivered += list.length - publishes;
    const event = list[0]!.event;
    if (
      event.size !== Buffer.byteLength(s.plan.body) ||
      event.sha256 !== s.plan.sha256 ||
      event.mailbox !== s.plan.mailbox
    )
      mismatched++;
  }
  return { delivered, lost: seeded.size - delivered, duplicated, redelivered, unexpected, mismatched };
}

/**
 * Every object of the seeded mailboxes in the inbound bucket, by the MESH message id in its key. Listed a mailbox
 * at a time (`inbound/{MAILBOX}/`), eight at once: one listing of the whole prefix at 10,000 objects got an
 * InternalError from s3rver, whose store walks only the folders under a listing's prefix.
 */
export async function checkBucket(pipeline: LocalPipeline, seeded: ReadonlyMap<string, Seeded>) {
  const s3 = new S3Client(pipeline.aws.clientConfig('s3'));
  const objects = new Map<string, number>();
  let extra = 0;
  const mailboxes = [...new Set([...seeded.values()].map((s) => s.plan.mailbox))];
  try {
    await mapWithConcurrency(mailboxes, 8, async (mailbox) => {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: pipeline.resources.inboundBucket,
            Prefix: `inbound/${mailbox}/`,
            ContinuationToken: token,
          }),
        );
        for (const object of page.Contents ?? []) {
          // inbound/{MAILBOX}/{WORKFLOW}/{MESSAGE ID}/{FILE NAME}
          const messageId = object.Key?.split('/')[3] ?? '';
          if (!seeded.has(messageId)) extra++;
          else objects.set(messageId, (objects.get(messageId) ?? 0) + 1);
        }
        token = page.NextContinuationToken;
      } while (token);
    });
  } finally {
    s3.destroy();
  }
  for (const count of objects.values()) extra += count - 1;
  return { stored: objects.size, missing: seeded.size - objects.size, extra };
}

/**
 * Where the quiet messages' latency goes, from the MESH server's evidence: arrival to the mailbox's next poll (its
 * next first page), that poll to the message's download request, the download request to the consumer's receipt.
 */
export function phases(
  seeded: ReadonlyMap<string, Seeded>,
  listings: readonly InboxListing[],
  downloadStarted: ReadonlyMap<string, number>,
  acked: ReadonlyMap<string, number>,
  firstReceipt: ReadonlyMap<string, number>,
  busy: string,
): string {
  const polls = new Map<string, number[]>();
  for (const l of listings) {
    if (l.page !== 'first') continue;
    let list = polls.get(l.mailbox);
    if (!list) polls.set(l.mailbox, (list = []));
    list.push(l.atMs);
  }
  const toPoll: number[] = [];
  const toDownload: number[] = [];
  const toAck: number[] = [];
  const toEvent: number[] = [];
  for (const [messageId, s] of seeded) {
    if (s.plan.mailbox === busy) continue;
    const poll = polls.get(s.plan.mailbox)?.find((at) => at >= s.arrivedAtMs);
    const download = downloadStarted.get(messageId);
    const ack = acked.get(messageId);
    const event = firstReceipt.get(messageId);
    if (poll === undefined || download === undefined || ack === undefined || event === undefined) continue;
    toPoll.push(poll - s.arrivedAtMs);
    toDownload.push(download - poll);
    toAck.push(ack - download);
    toEvent.push(event - ack);
  }
  if (toPoll.length === 0) return 'quiet latency phases: no complete messages';
  const show = (values: number[]) => `p50 ${percentile(values, 50)} ms, p99 ${percentile(values, 99)} ms`;
  return (
    `quiet latency phases (${toPoll.length} messages): arrival to the next poll ${show(toPoll)}; that poll to ` +
    `the download request ${show(toDownload)}; download request to acknowledgement (the event is published just ` +
    `before it) ${show(toAck)}; acknowledgement to the consumer's receipt ${show(toEvent)}`
  );
}

/** The shortest time between two successive times of one key. */
export function closestGap(times: ReadonlyMap<string, readonly number[]>): number {
  let closest = Infinity;
  for (const list of times.values()) {
    const sorted = [...list].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) closest = Math.min(closest, sorted[i]! - sorted[i - 1]!);
  }
  return closest;
}
