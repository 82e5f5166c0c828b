/**
 * Evidence the pipeline does not write: the local MESH server's own store, the recipient's bucket read with a clean
 * client, and the queues as SQS reports them. (The operator's redrive is shared/operations/dead-letters.ts.)
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { sha256Of } from './random.js';

/** The fields of the MESH server's record of a message (local/mesh-server/message.ts) the oracle reads. */
export interface MeshStoredMessage {
  readonly messageId: string;
  readonly messageType: 'DATA' | 'REPORT';
  readonly sender?: string;
  readonly recipient: string;
  readonly localId?: string;
  readonly fileName: string;
  readonly contentEncoding?: 'gzip';
  readonly totalChunks: number;
  readonly chunks: readonly ({ size: number } | null)[];
  readonly status: 'uploading' | 'accepted' | 'acknowledged' | 'undeliverable' | 'error';
  readonly createdAt: string;
  readonly acknowledgedAt?: string;
}

/** Reads every message record the MESH server has persisted under its `storeDir`. */
export async function readMeshStore(storeDir: string): Promise<MeshStoredMessage[]> {
  const root = join(storeDir, 'messages');
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const records: MeshStoredMessage[] = [];
  await Promise.all(
    entries.map(async (id) => {
      try {
        records.push(JSON.parse(await readFile(join(root, id, 'record.json'), 'utf8')) as MeshStoredMessage);
      } catch {
        // No record yet: a first chunk still being written.
      }
    }),
  );
  return records;
}

/** SHA-256 of a message's content as the recipient gets it: its stored chunks in order, each gunzipped if sent so. */
export async function meshContentSha256(storeDir: string, message: MeshStoredMessage): Promise<string> {
  const dir = join(storeDir, 'messages', message.messageId);
  async function* content(): AsyncGenerator<Buffer> {
    for (let n = 1; n <= message.totalChunks; n++) {
      let stream: Readable = createReadStream(join(dir, `chunk-${n}`));
      if (message.contentEncoding === 'gzip') stream = stream.pipe(createGunzip());
      for await (const piece of stream) yield piece as Buffer;
    }
  }
  return sha256Of(Readable.from(content()));
}

/** An object in the recipient's bucket, under `inbound/{MAILBOX}/{WORKFLOW}/{MESSAGE ID}/{FILE NAME}`. */
export interface StoredObject {
  readonly key: string;
  readonly mailbox: string;
  readonly messageId: string;
  readonly sha256: string;
}

/** Every object under `inbound/`, each read whole and hashed, with a clean client. */
export async function readInboundBucket(s3: S3Client, bucket: string): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'inbound/', ContinuationToken: token }),
    );
    for (const { Key } of page.Contents ?? []) {
      if (!Key) continue;
      const [, mailbox, , messageId] = Key.split('/');
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      objects.push({
        key: Key,
        mailbox: mailbox ?? '',
        messageId: messageId ?? '',
        sha256: await sha256Of(Body as Readable),
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** Messages in a queue: visible, in flight and delayed. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}
