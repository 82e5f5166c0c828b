import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AwsClients } from '../../shared/aws/clients.js';
import { safeFileName } from '../../shared/inbound/safe-names.js';
import { KEY_LAYOUT } from '../../shared/wiring/pipeline.js';
import type { PipelineEvent } from './event-feed.js';

export interface FolderBridgeOptions {
  readonly root: string;
  readonly mailboxIds: readonly string[];
  readonly clients: AwsClients;
  readonly outboundBucket: string;
  readonly onUpload: (mailboxId: string, name: string, key: string) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Files dropped into `{root}/outbox/{MAILBOX}/` are uploaded to that mailbox's outbound prefix (and moved to
 * `.sent/`); stored inbound messages are written to `{root}/inbox/{MAILBOX}/`. A file is uploaded once its size
 * and modification time have held still for one scan, so a half-copied file is not sent.
 */
export class FolderBridge {
  private timer: NodeJS.Timeout | undefined;
  private readonly lastSeen = new Map<string, string>();
  private scanning: Promise<void> | undefined;

  constructor(private readonly options: FolderBridgeOptions) {}

  async start(): Promise<void> {
    for (const id of this.options.mailboxIds) {
      await mkdir(join(this.options.root, 'outbox', id, '.sent'), { recursive: true });
      await mkdir(join(this.options.root, 'inbox', id), { recursive: true });
    }
    this.timer = setInterval(() => {
      this.scanning ??= this.scan()
        .catch(this.options.onError)
        .finally(() => (this.scanning = undefined));
    }, 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.scanning;
  }

  /** Writes a stored inbound message into the mailbox's inbox folder; returns the path. */
  async deliver(item: PipelineEvent): Promise<string | undefined> {
    if (item.kind !== 'inbound') return undefined;
    const e = item.event;
    const dir = join(this.options.root, 'inbox', e.mailbox, e.messageType === 'REPORT' ? 'reports' : '');
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${e.messageId}-${safeFileName(e.fileName, e.messageId)}`);
    const { Body } = await this.options.clients.s3.send(
      new GetObjectCommand({ Bucket: e.bucket, Key: e.key }),
    );
    await pipeline(Body as Readable, createWriteStream(path));
    return path;
  }

  private async scan(): Promise<void> {
    for (const mailboxId of this.options.mailboxIds) {
      const dir = join(this.options.root, 'outbox', mailboxId);
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (!entry.isFile() || entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        const info = await stat(path);
        const signature = `${info.size}:${info.mtimeMs}`;
        if (this.lastSeen.get(path) !== signature) {
          this.lastSeen.set(path, signature);
          continue;
        }
        this.lastSeen.delete(path);
        const key = `${KEY_LAYOUT.outboundPrefix(mailboxId)}${entry.name}`;
        await new Upload({
          client: this.options.clients.s3,
          params: {
            Bucket: this.options.outboundBucket,
            Key: key,
            Body: createReadStream(path),
            Metadata: { 'mex-filename': encodeURIComponent(entry.name) },
          },
        }).done();
        await rename(path, join(dir, '.sent', `${Date.now()}-${entry.name}`));
        this.options.onUpload(mailboxId, entry.name, key);
      }
    }
  }
}
