import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { InboundEventV1 } from '../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../shared/events/outbound-status.js';
import { silentLog } from '../shared/observability/ports.js';
import { fileBytes, seededRandom } from '../local/chaos/random.js';
import { startLocalPipeline } from '../local/pipeline/local-pipeline.js';

export interface E2eOptions {
  readonly files: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly seed: number;
  readonly say: (line: string) => void;
}

export interface E2eResult {
  readonly scenario: 'e2e';
  readonly files: number;
  readonly filesPerSecond: number;
  readonly mbps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Files from mailbox A's outbound bucket to mailbox B's inbound bucket through the whole local pipeline (send
 * function, local MESH server, poller, download function), with the poll schedule shortened to half a second.
 * Latency is from the end of each upload to its inbound event.
 */
export async function runE2e(options: E2eOptions): Promise<E2eResult> {
  const random = seededRandom(options.seed);
  // Sizes spread evenly on a log scale, so small and large files both count.
  const sizes = Array.from({ length: options.files }, () =>
    Math.round(
      Math.exp(
        Math.log(options.minBytes) + random() * (Math.log(options.maxBytes) - Math.log(options.minBytes)),
      ),
    ),
  );
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const pipeline = await startLocalPipeline({
    log: silentLog,
    meshPort: 0,
    pollEveryMs: 500,
    trackEveryMs: 60_000,
  });
  try {
    const uploadedAt = new Map<string, number>();
    const messageOf = new Map<string, string>();
    const latencies: number[] = [];
    let lastEventAt = 0;
    const allArrived = new Promise<void>((resolve) => {
      pipeline.events.on(({ kind, event }) => {
        const now = Date.now();
        if (kind === 'status') {
          const status = event as OutboundStatusEventV1;
          if (status.messageId) messageOf.set(status.messageId, status.key);
          return;
        }
        const arrived = event as InboundEventV1;
        const key = messageOf.get(arrived.messageId);
        const start = key ? uploadedAt.get(key) : undefined;
        if (start === undefined) return;
        latencies.push(now - start);
        lastEventAt = now;
        if (latencies.length === options.files) resolve();
      });
    });
    const uploader = new S3Client(pipeline.aws.clientConfig('s3'));
    options.say(
      `e2e: ${options.files} files, ${(totalBytes / 1024 / 1024).toFixed(1)} MiB in all, X26ABC1 → X26ABC2`,
    );
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < sizes.length) {
          const index = next++;
          const key = `outbound/X26ABC1/bench/file-${index}.bin`;
          await new Upload({
            client: uploader,
            params: {
              Bucket: pipeline.resources.outboundBucket,
              Key: key,
              Body: fileBytes(options.seed, index, sizes[index]!),
              Metadata: { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' },
            },
          }).done();
          uploadedAt.set(key, Date.now());
        }
      }),
    );
    await Promise.race([
      allArrived,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('e2e bench timed out')), 20 * 60_000).unref(),
      ),
    ]);
    uploader.destroy();
    const seconds = (lastEventAt - started) / 1000;
    latencies.sort((a, b) => a - b);
    const percentile = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
    return {
      scenario: 'e2e',
      files: options.files,
      filesPerSecond: round(options.files / seconds),
      mbps: round(totalBytes / 1e6 / seconds),
      p50Ms: percentile(50),
      p99Ms: percentile(99),
    };
  } finally {
    await pipeline.stop();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
