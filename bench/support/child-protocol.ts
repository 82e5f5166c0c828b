import type { RequestTotals } from './trace.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';

/** What a measured child process is asked to do. The function jobs take their configuration from the env. */
export type ChildJob =
  | {
      /** Runs a function (send or download) against its queue, as Lambda's event source would. */
      readonly kind: 'function';
      readonly fn: 'outbound-send' | 'inbound-download';
      readonly queueUrl: string;
      readonly timeoutMs: number;
      /** How long to wait for the first message. */
      readonly firstMessageWithinMs: number;
    }
  | {
      /** Baseline: POSTs a generated payload straight to MESH, chunk by chunk. */
      readonly kind: 'raw-post';
      readonly meshUrl: string;
      readonly mailboxId: string;
      readonly credentials: MeshCredentials;
      readonly to: string;
      readonly workflowId: string;
      readonly size: number;
      readonly chunkBytes: number;
      /**
       * Gzip each chunk at this zlib level before posting it, on one thread, one chunk after another: what the
       * compression costs on one core, and the throughput a single-threaded sender gets.
       */
      readonly gzipLevel?: number;
    }
  | {
      /**
       * Baseline: the download function's job with minimal code. Every chunk of a message GET straight from MESH
       * and streamed as it arrives into one part of an S3 multipart upload, then the upload completed.
       */
      readonly kind: 'raw-copy';
      readonly meshUrl: string;
      readonly mailboxId: string;
      readonly credentials: MeshCredentials;
      readonly messageId: string;
      readonly bucket: string;
      readonly key: string;
    }
  | {
      /** Ceiling: reads an object from the S3 emulator in ranged GETs, one after another, and discards it. */
      readonly kind: 's3-read';
      readonly bucket: string;
      readonly key: string;
      readonly size: number;
      readonly rangeBytes: number;
    }
  | {
      /** Ceiling: writes a generated payload to the S3 emulator as a multipart upload, part after part. */
      readonly kind: 's3-write';
      readonly bucket: string;
      readonly key: string;
      readonly size: number;
      readonly partBytes: number;
    };

export interface ChildResult {
  /** Wall time of the measured work: first invocation start to last invocation end, or first to last request. */
  readonly ms: number;
  /** Peak resident set size of the child process (process.resourceUsage().maxRSS), in KiB. */
  readonly maxRssKb: number;
  /**
   * CPU time (user + system) the child spent on the measured work, in ms: for a function, from the start of its
   * first invocation to the end of its last, as `ms` (not its cold start).
   */
  readonly cpuMs: number;
  /** Peaks of process.memoryUsage() sampled every 100 ms over the measured work, in KiB: where the RSS went. */
  readonly peaks: {
    readonly heapUsedKb: number;
    readonly externalKb: number;
    readonly arrayBuffersKb: number;
  };
  /** Time spent in HTTP requests, by kind (see trace.ts). */
  readonly requests: Readonly<Record<string, RequestTotals>>;
  /** Payload bytes moved (baselines). */
  readonly bytes?: number;
  readonly invocations?: number;
  /** Invocation errors and records reported as failed. */
  readonly failures?: readonly string[];
  /** The MESH message id (raw-post). */
  readonly messageId?: string;
}

export type ChildMessage =
  | { readonly type: 'result'; readonly result: ChildResult }
  | { readonly type: 'error'; readonly message: string };
