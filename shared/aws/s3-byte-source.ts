import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { ByteSource } from '../mesh/byte-source.js';

export interface S3ObjectVersion {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Pins reads to this version when the bucket is versioned. */
  readonly versionId?: string;
  /** Without a version id, reads are pinned by ETag so a replaced object fails instead of mixing two files. */
  readonly eTag?: string;
}

/**
 * Ranged GETs over one object version: each chunk is read on its own, so memory never holds the object. `signal`
 * ends a read that outlives the invocation.
 */
export function s3ByteSource(s3: S3Client, object: S3ObjectVersion, signal?: AbortSignal): ByteSource {
  return {
    size: object.size,
    read: async (start, end) => {
      const { Body } = await s3.send(
        new GetObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          VersionId: object.versionId,
          IfMatch: object.versionId ? undefined : quoteETag(object.eTag),
          Range: `bytes=${start}-${end - 1}`,
        }),
        { abortSignal: signal },
      );
      if (!(Body instanceof Readable)) throw new Error('S3 returned a body that is not a Node stream');
      return Body;
    },
  };
}

/** S3 conditions want the ETag in quotes; event records and HEAD answers differ in whether they include them. */
export function quoteETag(eTag: string | undefined): string | undefined {
  if (!eTag) return undefined;
  return eTag.startsWith('"') ? eTag : `"${eTag}"`;
}
