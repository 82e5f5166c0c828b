import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** The object a failed GetObject or HeadObject asked for. */
export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);
const DENIED_NAMES = new Set(['AccessDenied', 'Forbidden']);

/**
 * Whether a failed GetObject or HeadObject failed because the object (or version) does not exist.
 *
 * S3 answers a read of a missing key with 404 only to a caller allowed `s3:ListBucket` on the whole bucket; to
 * anyone else it answers 403 AccessDenied (for HEAD: a bare 403, which the SDK names `Unknown`, `Forbidden` or
 * `403`), so that the answer does not reveal which keys exist. The pipeline's roles have no such ListBucket: theirs
 * is conditioned on `s3:prefix` (their own mailbox prefix), a key that GetObject and HeadObject requests do not
 * carry, so it never turns their 403 into a 404. It does let them list under their prefix, so a 403 is settled by
 * asking ListObjectsV2 whether an object with exactly this key exists: none means missing; one means the 403 had
 * another cause (a refused KMS key, a denying policy) and is not a missing object.
 *
 * A missing version of a key that still exists cannot be told from a refusal by listing (that would need
 * ListBucketVersions), so that case answers false. If the listing itself fails, the answer is false: nothing is
 * known to be missing. Nothing is logged here; the caller logs what it decides.
 */
export async function isObjectMissing(s3: S3Client, object: S3ObjectRef, error: unknown): Promise<boolean> {
  const name = errorName(error);
  const status = httpStatusOf(error);
  if ((name !== undefined && NOT_FOUND_NAMES.has(name)) || status === 404) return true;
  const denied = status === 403 || (name !== undefined && DENIED_NAMES.has(name));
  if (!denied) return false;
  let exists: boolean;
  try {
    exists = await keyExists(s3, object);
  } catch {
    return false;
  }
  return !exists;
}

/** Whether an object with exactly this key is in the bucket (any key that merely starts with it does not count). */
async function keyExists(s3: S3Client, object: S3ObjectRef): Promise<boolean> {
  // Keys sort in UTF-8 byte order and every longer key with this prefix sorts after the key itself, so if the key
  // exists it is the first of the listing.
  const listing = await s3.send(
    new ListObjectsV2Command({ Bucket: object.bucket, Prefix: object.key, MaxKeys: 2 }),
  );
  return (listing.Contents ?? []).some((entry) => entry.Key === object.key);
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  if (typeof Code === 'string') return Code;
  return typeof name === 'string' ? name : undefined;
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
