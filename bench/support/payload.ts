import { Upload } from '@aws-sdk/lib-storage';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { MeshClient } from '../../shared/mesh/index.js';
import { generatedPieces, generatedStream, type PayloadKind } from './generated-bytes.js';
import { MIB } from './report.js';

/** SHA-256 (hex) of a generated payload of `size` bytes, computed from the generator (no I/O). */
export function generatedSha256(size: number, kind: PayloadKind = 'csv'): string {
  const hash = createHash('sha256');
  for (const piece of generatedPieces(0, size, kind)) hash.update(piece);
  return hash.digest('hex');
}

/** Uploads a generated payload as an S3 object, streamed in 16 MiB parts: never a payload-sized buffer. */
export async function uploadGenerated(
  s3: S3Client,
  target: {
    bucket: string;
    key: string;
    size: number;
    metadata: Record<string, string>;
    /** @default 'csv' */
    kind?: PayloadKind;
  },
): Promise<void> {
  await new Upload({
    client: s3,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: generatedStream(0, target.size, target.kind),
      Metadata: target.metadata,
    },
    partSize: 16 * MIB,
    queueSize: 2,
  }).done();
}

export async function sha256OfStream(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const piece of stream) {
    hash.update(piece as Buffer);
    bytes += (piece as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export async function sha256OfObject(s3: S3Client, bucket: string, key: string) {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha256OfStream(Body as Readable);
}

/** What the recipient would download: every chunk of a MESH message, decoded, hashed. */
export async function sha256OfMeshMessage(client: MeshClient, messageId: string) {
  const { body } = await client.download(messageId);
  return sha256OfStream(body);
}
