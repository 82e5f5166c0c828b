import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SignedDownload, SignedUpload, UrlSigner } from './ports.js';

export interface S3UrlSignerOptions {
  readonly outboundBucket: string;
  /** How long an upload URL works: long enough to start a 100 MB upload on a slow line. */
  readonly uploadSeconds?: number;
  /** How long a download link works: short, so a link copied elsewhere is soon useless. */
  readonly downloadSeconds?: number;
  readonly now?: () => Date;
}

/**
 * The request headers a browser's upload carries, as the outbound bucket's CORS rule must allow them (the construct
 * in AWS and the local console's setup both use this list).
 */
export const UPLOAD_CORS_HEADERS: readonly string[] = ['content-type', 'if-none-match', 'x-amz-meta-*'];

/**
 * Presigned S3 requests with the function's own credentials (so what the browser may do is at most what the function
 * may do, and only for the one key signed). The upload signs its length, type and `mex-` metadata as headers: a
 * browser that sends a different size or other metadata is refused by S3.
 *
 * The upload also signs `If-None-Match: *` (an S3 conditional write): the URL stores the file once, and any later
 * PUT to it is answered 412. Every new version of an outbound key is a new transfer, so without it a repeated PUT
 * (a retry after a dropped connection, a URL used twice within its 15 minutes) would be a second MESH message.
 */
export function s3UrlSigner(s3: S3Client, options: S3UrlSignerOptions): UrlSigner {
  const uploadSeconds = options.uploadSeconds ?? 15 * 60;
  const downloadSeconds = options.downloadSeconds ?? 60;
  const now = options.now ?? (() => new Date());
  const expiry = (seconds: number) => new Date(now().getTime() + seconds * 1000).toISOString();
  return {
    async upload({ key, size, contentType, metadata }): Promise<SignedUpload> {
      const command = new PutObjectCommand({
        Bucket: options.outboundBucket,
        Key: key,
        ContentLength: size,
        ContentType: contentType,
        Metadata: { ...metadata },
        IfNoneMatch: '*',
      });
      const metaHeaders = Object.keys(metadata).map((name) => `x-amz-meta-${name}`);
      const url = await getSignedUrl(s3, command, {
        expiresIn: uploadSeconds,
        signableHeaders: new Set(['content-length', 'content-type', 'if-none-match', ...metaHeaders]),
        // Kept as headers (not query parameters), so they are signed as headers and S3 stores them as metadata.
        unhoistableHeaders: new Set(metaHeaders),
      });
      return {
        url,
        method: 'PUT',
        headers: {
          'content-type': contentType,
          'if-none-match': '*',
          ...Object.fromEntries(
            Object.entries(metadata).map(([name, value]) => [`x-amz-meta-${name}`, value]),
          ),
        },
        expiresAt: expiry(uploadSeconds),
      };
    },
    async download({ bucket, key, versionId, fileName }): Promise<SignedDownload> {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        VersionId: versionId,
        ResponseContentDisposition: attachment(fileName),
      });
      return {
        url: await getSignedUrl(s3, command, { expiresIn: downloadSeconds }),
        expiresAt: expiry(downloadSeconds),
      };
    },
  };
}

/** `attachment` with the file name for any browser: a plain ASCII fallback, and the exact name (RFC 6266, 5987). */
export function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const exact = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
