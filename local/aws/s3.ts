import { AsyncLocalStorage } from 'node:async_hooks';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3EventRecord } from 'aws-lambda';
import S3rver from 's3rver';
import { closeServer, endpointFor, listen } from './http.js';
import { createSequencer, normaliseRecord } from './s3-events.js';
import { SinglePassMultipartStore } from './s3-multipart-store.js';
import type { S3RequestKind } from './s3-events.js';

export type S3EventListener = (record: S3EventRecord) => void;

export interface S3Emulator {
  readonly endpoint: string;
  onEvent(listener: S3EventListener): () => void;
  close(): Promise<void>;
}

/**
 * How a GET or HEAD of a key (or version) that does not exist is answered.
 *
 * - `'access-denied'`: 403 AccessDenied, as AWS answers a caller without an effective `s3:ListBucket` on the bucket,
 *   which is every role of the pipeline (their ListBucket, where they have one, is conditioned on `s3:prefix`, a key
 *   GetObject and HeadObject requests do not carry). Code that must tell "missing" from "refused" asks
 *   ListObjectsV2 (shared/aws/s3-missing.ts), which the emulator answers as usual.
 * - `'not-found'`: 404 NoSuchKey (HEAD: 404, no body), as AWS answers a caller with an unconditioned ListBucket.
 */
export type MissingObjectAnswer = 'access-denied' | 'not-found';

export interface S3EmulatorOptions {
  port: number;
  region: string;
  /** Where s3rver keeps objects. A fresh temporary directory, removed on close, when absent. */
  directory?: string;
  /** @default 'access-denied': what AWS answers the pipeline's own roles */
  missingObject?: MissingObjectAnswer;
}

/**
 * S3 on s3rver, which streams objects to disk (a 200 MB upload costs the process almost no memory) and emits S3
 * event records. A thin front handler adds what the pipeline relies on and s3rver lacks: `If-None-Match: *` on
 * writes, AbortMultipartUpload, NoSuchUpload, the real event name for a completed multipart upload, and (by
 * default) AWS's 403 for a read of a missing key by a caller without ListBucket; its store is replaced by one that
 * checks and joins multipart uploads as S3 does, at a fraction of the cost.
 */
export async function startS3(options: S3EmulatorOptions): Promise<S3Emulator> {
  const missingObject = options.missingObject ?? 'access-denied';
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'mesh-local-s3-')));
  await mkdir(directory, { recursive: true });

  const s3rver = new S3rver({ directory, silent: true, vhostBuckets: false });
  const store = new SinglePassMultipartStore(directory);
  s3rver.store = s3rver.context.store = store;
  const requestKind = new AsyncLocalStorage<S3RequestKind | undefined>();
  const listeners = new Set<S3EventListener>();
  const nextSequencer = createSequencer();

  s3rver.on('event', (event) => {
    // s3rver emits inside the request that caused the event, so the request's kind is still in scope here.
    const kind = requestKind.getStore();
    for (const raw of event.Records) {
      const record = normaliseRecord(raw, { region: options.region, kind, sequencer: nextSequencer() });
      // Delivered after the request finishes, as S3 does, so a listener that reads the object back sees it and a
      // listener that throws cannot break the upload that triggered it.
      setImmediate(() => {
        for (const listener of listeners) listener(record);
      });
    }
  });

  const delegate = s3rver.callback();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendError(res, 500, 'InternalError', error instanceof Error ? error.message : String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseRequest(req);
    if (request.versioning) {
      answerVersioning(req, res);
      return;
    }
    const refusal = await checkRequest(s3rver.store, request, req);
    if (refusal) {
      sendError(res, refusal.status, refusal.code, refusal.message);
      return;
    }
    if (missingObject === 'access-denied' && (await deniedAsMissing(store, request, req))) {
      sendAccessDenied(req, res);
      return;
    }
    if (request.abortUploadId !== undefined) {
      // checkRequest has already refused an unknown or malformed upload id.
      const directory = uploadDirectory(s3rver.store, request.bucket, request.abortUploadId);
      if (directory !== undefined) await rm(directory, { recursive: true, force: true });
      res.writeHead(204).end();
      return;
    }
    requestKind.run(request.kind, () => delegate(req, res));
  }

  const port = await listen(server, options.port);
  return {
    endpoint: endpointFor(port),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await closeServer(server);
      if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
}

interface ParsedRequest {
  bucket: string;
  /** A plain GetObject or HeadObject (a version, a range, a part or response overrides allowed; no subresource). */
  readsObject: boolean;
  /** A bucket `?versioning` request, which s3rver 3.7.1 mistakes for CreateBucket / ListObjects. */
  versioning: boolean;
  key: string;
  kind: S3RequestKind | undefined;
  uploadId: string | undefined;
  abortUploadId: string | undefined;
}

/** Path-style only: clientConfig('s3') forces it, and the endpoint is an IP address, which rules out vhost style. */
function parseRequest(req: IncomingMessage): ParsedRequest {
  const url = new URL(req.url ?? '/', 'http://s3.local');
  const [bucket = '', ...keyParts] = url.pathname.slice(1).split('/');
  const key = decodeURIComponent(keyParts.join('/'));
  const uploadId = url.searchParams.get('uploadId') ?? undefined;
  const isObject = key !== '';
  const abortUploadId = req.method === 'DELETE' && isObject ? uploadId : undefined;
  // A DELETE with an uploadId aborts an upload: it removes no object and S3 sends no event for it.
  const kind = abortUploadId === undefined ? requestKindOf(req, url, isObject, uploadId) : undefined;
  const versioning = !isObject && url.searchParams.has('versioning');
  const readsObject =
    isObject &&
    (req.method === 'GET' || req.method === 'HEAD') &&
    ![...url.searchParams.keys()].some((name) => READ_SUBRESOURCES.includes(name));
  return { bucket: decodeURIComponent(bucket), readsObject, versioning, key, kind, uploadId, abortUploadId };
}

function requestKindOf(
  req: IncomingMessage,
  url: URL,
  isObject: boolean,
  uploadId: string | undefined,
): S3RequestKind | undefined {
  // POST on a bucket is a browser form upload, or DeleteObjects when it carries ?delete.
  if (req.method === 'POST' && !isObject) return url.searchParams.has('delete') ? undefined : 'post';
  if (!isObject) return undefined;
  if (req.method === 'POST' && uploadId !== undefined) return 'complete-multipart';
  if (req.method === 'DELETE') return 'delete';
  const subresource = OBJECT_SUBRESOURCES.some((name) => url.searchParams.has(name));
  if (req.method === 'PUT' && uploadId === undefined && !subresource) {
    return req.headers['x-amz-copy-source'] === undefined ? 'put' : 'copy';
  }
  return undefined;
}

/** Query parameters that turn a PUT on a key into something other than PutObject / CopyObject. */
const OBJECT_SUBRESOURCES = [
  'acl',
  'tagging',
  'legal-hold',
  'retention',
  'torrent',
  'partNumber',
  'uploadId',
];

/** Query parameters that turn a GET or HEAD on a key into something other than GetObject / HeadObject. */
const READ_SUBRESOURCES = ['acl', 'tagging', 'legal-hold', 'retention', 'torrent', 'uploadId', 'attributes'];

/**
 * Whether a read is of a key that does not exist, in a bucket that does. AWS answers it with 403 AccessDenied
 * unless the caller has an effective s3:ListBucket; a missing bucket is still NoSuchBucket (404), from s3rver.
 * s3rver keeps no versions, so a read of a missing version of an existing key cannot be modelled here.
 *
 * Checked before s3rver reads: an object deleted between the two is answered 404, as the `not-found` mode would.
 */
async function deniedAsMissing(
  store: SinglePassMultipartStore,
  request: ParsedRequest,
  req: IncomingMessage,
): Promise<boolean> {
  if (!request.readsObject || isAwsChunked(req) || !isBucketName(request.bucket)) return false;
  if (!(await store.bucketExists(request.bucket))) return false;
  return !(await store.existsObject(request.bucket, request.key));
}

/** S3's answer to a caller that may not learn whether the key exists: an XML error, or for HEAD no body at all. */
function sendAccessDenied(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'HEAD') {
    res.writeHead(403, { 'content-length': 0 }).end();
    return;
  }
  sendError(res, 403, 'AccessDenied', 'Access Denied');
}

interface Refusal {
  status: number;
  code: string;
  message: string;
}

async function checkRequest(
  store: S3rver.FilesystemStore,
  request: ParsedRequest,
  req: IncomingMessage,
): Promise<Refusal | undefined> {
  if (isAwsChunked(req)) {
    // s3rver would store the aws-chunked framing inside the object: refuse loudly rather than corrupt it.
    return {
      status: 400,
      code: 'InvalidRequest',
      message:
        'aws-chunked uploads are not supported by the local S3: build the client with clientConfig("s3") ' +
        '(requestChecksumCalculation: WHEN_REQUIRED)',
    };
  }
  if (request.uploadId !== undefined) {
    const directory = uploadDirectory(store, request.bucket, request.uploadId);
    if (directory === undefined || !(await pathExists(directory))) {
      return { status: 404, code: 'NoSuchUpload', message: 'The specified upload does not exist.' };
    }
  }
  const writesObject = request.kind === 'put' || request.kind === 'complete-multipart';
  if (writesObject && req.headers['if-none-match'] === '*') {
    if (await store.existsObject(request.bucket, request.key)) {
      return {
        status: 412,
        code: 'PreconditionFailed',
        message: 'At least one of the pre-conditions you specified did not hold',
      };
    }
  }
  return undefined;
}

/**
 * s3rver has no versioning. Reading the setting answers truthfully (never enabled, as for a new bucket);
 * enabling it fails loudly so that nothing relies on versions the emulator does not keep.
 */
function answerVersioning(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') {
    sendError(res, 501, 'NotImplemented', 'Bucket versioning is not implemented by the local S3 (s3rver).');
    return;
  }
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>';
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function isAwsChunked(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'] ?? '';
  const contentSha = req.headers['x-amz-content-sha256'];
  return (
    encoding.includes('aws-chunked') ||
    (typeof contentSha === 'string' && contentSha.startsWith('STREAMING-'))
  );
}

/**
 * Where s3rver 3.7.1 keeps the parts of an upload in progress (FilesystemStore.initiateUpload). Both names come
 * from the request and the directory may be deleted, so anything that is not a plain bucket name and a hex upload
 * id (what s3rver issues) is refused rather than joined into a path.
 */
function uploadDirectory(
  store: S3rver.FilesystemStore,
  bucket: string,
  uploadId: string,
): string | undefined {
  if (!isBucketName(bucket)) return undefined;
  if (!/^[0-9a-f]{32}$/.test(uploadId)) return undefined;
  return join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
}

/** A plain S3 bucket name: safe to join into a path. */
function isBucketName(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) && !bucket.includes('..');
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
