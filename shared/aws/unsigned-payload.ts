import { isIP } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { isLoopbackHost } from '../mesh/environments.js';

/** The commands whose bodies are message bytes: the ones worth not hashing twice. */
const UPLOAD_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);

const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/**
 * Sends S3 uploads with `x-amz-content-sha256: UNSIGNED-PAYLOAD` over TLS (and over loopback, where nothing is in
 * between), as the AWS SDKs for Java v2, Go v2 and Kotlin do by default. The JavaScript SDK hashes every Buffer
 * body with SHA-256 for the signature, a second full pass over each part after the download function's own
 * SHA-256 of the message: a fifth of the function's CPU per byte, and Lambda gives it well under one vCPU. TLS
 * protects the bytes in transit and S3 checks the CRC32 the SDK sends with every upload (flexible checksums,
 * on by default), so the signed hash adds cost and no protection. Any other transport keeps the signed hash.
 */
export function sendUploadsUnsigned(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as OutgoingRequest;
      if (UPLOAD_COMMANDS.has(context.commandName ?? '') && unsignedIsSafe(request)) {
        request.headers[PAYLOAD_HASH_HEADER] = UNSIGNED_PAYLOAD;
      }
      return next(args);
    },
    { step: 'build', name: 'sendUploadsUnsigned', override: true },
  );
}

/** The parts of the SDK's HttpRequest read and set here. */
interface OutgoingRequest {
  readonly protocol: string;
  readonly hostname: string;
  readonly headers: Record<string, string>;
}

function unsignedIsSafe(request: OutgoingRequest): boolean {
  if (request.protocol === 'https:') return true;
  // Only names that cannot be sent to DNS: a *.localhost name may be resolved elsewhere by some resolvers.
  const host = request.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return request.protocol === 'http:' && (host === 'localhost' || (isIP(host) !== 0 && isLoopbackHost(host)));
}
