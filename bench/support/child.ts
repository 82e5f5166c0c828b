/**
 * Entry point of a measured child process: one function run, baseline transfer or S3-emulator ceiling, then its
 * figures (wall time, CPU, peak RSS, time per request kind) go back to the parent over IPC. Bundled and started
 * by fork.ts; not meant to be run by hand.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { SqsEventSource, type SqsHandler } from '../../local/runtime/sqs-event-source.js';
import type { ChildJob, ChildMessage, ChildResult } from './child-protocol.js';
import { generatedPieces, preparePayload } from './generated-bytes.js';
import { rawCopy, rawPost } from './raw-client-jobs.js';
import { timeRequests } from './trace.js';

/** Every HTTP request of the process is timed from the start. */
const requestTotals = timeRequests(
  process.env.BENCH_TRACE ? (line) => process.stderr.write(`${line}\n`) : undefined,
);

type Job<K extends ChildJob['kind']> = Extract<ChildJob, { kind: K }>;
/** What a job measures itself; the process-wide figures are added by run(). */
type Work = Omit<ChildResult, 'maxRssKb' | 'cpuMs' | 'peaks' | 'requests'> & {
  /** CPU over the timed window, where the job times less than its whole run (the function's cold start). */
  readonly cpuMs?: number;
};

/**
 * The function's own clients find the emulators through the AWS_ENDPOINT_URL_* variables, as they would find AWS
 * with no configuration at all, except SQS: fauxqs queue URLs name a host that does not resolve, and the SDK
 * sends to a queue URL's host unless the client has an explicit endpoint.
 */
function sqsEndpoint() {
  return { sqs: { endpoint: process.env.AWS_ENDPOINT_URL_SQS } };
}

async function loadFunction(fn: Job<'function'>['fn']) {
  if (fn === 'outbound-send') {
    const { createSendFunction } = await import('../../functions/outbound-send/container.js');
    return createSendFunction(process.env, { aws: sqsEndpoint() });
  }
  const { createDownloadFunction } = await import('../../functions/inbound-download/container.js');
  return createDownloadFunction(process.env, { aws: sqsEndpoint() });
}

/** Feeds the function from its queue until the work (and any continuation it queued) is done. */
async function runFunction(job: Job<'function'>): Promise<Work> {
  const fn = await loadFunction(job.fn);
  const sqs = new SQSClient(sqsEndpoint().sqs);
  const failures: string[] = [];
  let first: number | undefined;
  let last = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let cpuAtLast: NodeJS.CpuUsage | undefined;
  let invocations = 0;
  const handler: SqsHandler = async (event, context) => {
    first ??= performance.now();
    cpuAtFirst ??= process.cpuUsage();
    try {
      const response = (await fn.handler(event, context)) as SQSBatchResponse | undefined;
      for (const failure of response?.batchItemFailures ?? [])
        failures.push(`record ${failure.itemIdentifier} failed`);
      return response;
    } finally {
      last = performance.now();
      cpuAtLast = process.cpuUsage();
      invocations++;
    }
  };
  const source = new SqsEventSource({
    sqs,
    queueUrl: job.queueUrl,
    functionName: job.fn,
    handler,
    batchSize: 1,
    timeoutMs: job.timeoutMs,
    onInvocationError: (error) => failures.push(error instanceof Error ? error.message : String(error)),
  });
  try {
    const deadline = Date.now() + job.firstMessageWithinMs;
    while (invocations === 0) {
      if (Date.now() > deadline)
        throw new Error(`no message reached ${job.fn} within ${job.firstMessageWithinMs} ms`);
      await source.pollOnce(2);
    }
    // A transfer that outlives an invocation continues from a message it queued itself.
    let handled = 1;
    while (handled > 0 && failures.length === 0) handled = await source.pollOnce(1);
  } finally {
    await source.stop();
    await fn.close();
    sqs.destroy();
  }
  return {
    ms: last - first!,
    invocations,
    failures,
    cpuMs: cpuAtFirst && cpuAtLast ? cpuMsBetween(cpuAtFirst, cpuAtLast) : undefined,
  };
}

/** Ranged GETs of an object, one after another, each read to the end and discarded. */
async function s3Read(job: Job<'s3-read'>): Promise<Work> {
  const s3 = new S3Client({});
  try {
    const started = performance.now();
    let bytes = 0;
    for (let start = 0; start < job.size; start += job.rangeBytes) {
      const end = Math.min(job.size, start + job.rangeBytes);
      const { Body } = await s3.send(
        new GetObjectCommand({ Bucket: job.bucket, Key: job.key, Range: `bytes=${start}-${end - 1}` }),
      );
      for await (const piece of Body as Readable) bytes += (piece as Buffer).length;
    }
    return { ms: performance.now() - started, bytes };
  } finally {
    s3.destroy();
  }
}

/** A multipart upload of generated bytes, one part at a time from one reused buffer, then its completion. */
async function s3Write(job: Job<'s3-write'>): Promise<Work> {
  const s3 = new S3Client({});
  try {
    const started = performance.now();
    const target = { Bucket: job.bucket, Key: job.key };
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand(target));
    const part = Buffer.allocUnsafe(job.partBytes);
    const parts: { PartNumber: number; ETag?: string }[] = [];
    for (let start = 0; start < job.size; start += job.partBytes) {
      let filled = 0;
      for (const piece of generatedPieces(start, Math.min(job.size, start + job.partBytes))) {
        filled += piece.copy(part, filled);
      }
      const PartNumber = parts.length + 1;
      const { ETag } = await s3.send(
        new UploadPartCommand({ ...target, UploadId, PartNumber, Body: part.subarray(0, filled) }),
      );
      parts.push({ PartNumber, ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }),
    );
    return { ms: performance.now() - started, bytes: job.size };
  } finally {
    s3.destroy();
  }
}

/** Samples process.memoryUsage() until stopped, keeping the peaks. */
function memoryPeaks() {
  const peaks = { heapUsedKb: 0, externalKb: 0, arrayBuffersKb: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peaks.heapUsedKb = Math.max(peaks.heapUsedKb, Math.round(m.heapUsed / 1024));
    peaks.externalKb = Math.max(peaks.externalKb, Math.round(m.external / 1024));
    peaks.arrayBuffersKb = Math.max(peaks.arrayBuffersKb, Math.round(m.arrayBuffers / 1024));
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  return () => {
    clearInterval(timer);
    sample();
    return peaks;
  };
}

function perform(job: ChildJob): Promise<Work> {
  switch (job.kind) {
    case 'function':
      return runFunction(job);
    case 'raw-post':
      return rawPost(job);
    case 'raw-copy':
      return rawCopy(job);
    case 's3-read':
      return s3Read(job);
    case 's3-write':
      return s3Write(job);
  }
}

async function run(job: ChildJob): Promise<ChildResult> {
  // The jobs that generate their payload build it before the CPU they use is counted.
  if (job.kind === 'raw-post' || job.kind === 's3-write') preparePayload('csv');
  const cpuBefore = process.cpuUsage();
  const stopSampling = memoryPeaks();
  const work = await perform(job);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ...work,
    cpuMs: work.cpuMs ?? Math.round((cpu.user + cpu.system) / 1000),
    peaks: stopSampling(),
    requests: requestTotals(),
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

function reply(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

process.once('message', (job: ChildJob) => {
  run(job)
    .then((result) => reply({ type: 'result', result }))
    .catch((error: unknown) =>
      reply({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
    )
    .finally(() => process.disconnect());
});
// The parent went away: nothing left to report to.
process.once('disconnect', () => process.exit(0));

function cpuMsBetween(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return Math.round((to.user - from.user + to.system - from.system) / 1000);
}
