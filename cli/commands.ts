import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { fileChunkSource } from '../shared/mesh/file-source.js';
import {
  MeshClient,
  chooseTransportEncoding,
  sendChunked,
  type MeshClientOptions,
  type MessageMetadata,
} from '../shared/mesh/index.js';
import { sha256FromChecksum } from '../shared/inbound/checksum.js';
import { CliError, UsageError } from './errors.js';
import { checkedRecipient } from './send-address.js';
import { ProgressBar } from './progress.js';

export interface Output {
  readonly json: boolean;
  /** Human-readable line(s) on stdout. */
  say(text: string): void;
  /** The one JSON document a --json run prints. */
  result(value: unknown): void;
}

export interface SendFlags {
  readonly to?: string;
  readonly workflow?: string;
  readonly subject?: string;
  readonly 'local-id'?: string;
  readonly filename?: string;
  readonly 'content-type'?: string;
  readonly 'chunk-size'?: string;
  readonly 'no-compress'?: boolean;
  readonly 'compression-level'?: string;
  readonly 'compression-workers'?: string;
}

async function withClient<T>(
  options: MeshClientOptions,
  run: (client: MeshClient) => Promise<T>,
): Promise<T> {
  const client = new MeshClient(options);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

export function handshake(options: MeshClientOptions, out: Output): Promise<void> {
  return withClient(options, async (client) => {
    await client.handshake();
    if (out.json) out.result({ mailboxId: client.mailboxId, ok: true });
    else out.say(`handshake ok: ${client.mailboxId} at ${client.baseUrl.origin}`);
  });
}

export async function send(
  options: MeshClientOptions,
  out: Output,
  file: string,
  flags: SendFlags,
): Promise<void> {
  if (!flags.to) throw new UsageError('send needs --to RECIPIENT (a mailbox id or GPPROVIDER_...)');
  if (!flags.workflow) throw new UsageError('send needs --workflow ID');
  const chunkBytes = flags['chunk-size'] === undefined ? undefined : parseByteSize(flags['chunk-size']);
  const compressionLevel = parseCompressionLevel(flags);
  const compressionWorkers = parseCompressionWorkers(flags['compression-workers']);
  let source;
  try {
    source = await fileChunkSource(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${fileProblem(error)}`, { cause: error });
  }
  if (source.size === 0) throw new CliError(`${file} is empty: MESH does not accept an empty message`);
  const to = checkedRecipient(options.mailboxId, flags, basename(file), source.size);
  // Gzip only what compresses (a few small samples decide, as in the pipeline): a zip, an image or an encrypted
  // file goes plain rather than through a core's worth of gzip for nothing.
  const { encoding } = await chooseTransportEncoding(source, {
    compress: !flags['no-compress'],
    level: compressionLevel,
  });
  const compressed = encoding === 'gzip';
  await withClient(options, async (client) => {
    const bar = new ProgressBar(`send ${basename(file)}`, source.size);
    const result = await sendChunked(
      client,
      source,
      {
        to,
        workflowId: flags.workflow!,
        subject: flags.subject,
        localId: flags['local-id'],
        fileName: flags.filename ?? basename(file),
        contentType: flags['content-type'],
      },
      {
        chunkBytes,
        compress: compressed,
        compressionLevel,
        compressionWorkers,
        onChunk: (checkpoint) => bar.update(checkpoint.bytesSent),
      },
    );
    bar.finish();
    if (result.status !== 'complete') throw new CliError('send paused unexpectedly');
    if (out.json) {
      out.result({
        messageId: result.messageId,
        chunks: result.totalChunks,
        bytes: result.bytes,
        sha256: result.sha256,
        compressed,
      });
    } else {
      out.say(
        `sent ${result.messageId} (${result.totalChunks} chunk(s), ${result.bytes} bytes, sha256 ${result.sha256}, ` +
          `${compressed ? 'gzipped' : 'not compressed'})`,
      );
    }
  });
}

/** `--compression-workers`: chunks gzipped at once, 0 (the default) one per core. */
export function parseCompressionWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\s*\d{1,2}\s*$/.test(text) || Number(text) > 16) {
    throw new UsageError(
      `--compression-workers must be a whole number from 0 (one per core) to 16, not "${text}"`,
    );
  }
  return Number(text);
}

/** `--compression-level`: a zlib level, 1 (fastest) to 9 (smallest); undefined leaves the default. */
export function parseCompressionLevel(flags: Pick<SendFlags, 'compression-level' | 'no-compress'>) {
  const text = flags['compression-level'];
  if (text === undefined) return undefined;
  if (flags['no-compress']) throw new UsageError('--compression-level and --no-compress cannot go together');
  if (!/^\s*[1-9]\s*$/.test(text)) {
    throw new UsageError(`--compression-level must be a whole number from 1 to 9, not "${text}"`);
  }
  return Number(text);
}

export function inbox(options: MeshClientOptions, out: Output, all: boolean): Promise<void> {
  return withClient(options, async (client) => {
    const ids: string[] = [];
    let more = false;
    if (all) {
      for await (const id of client.inboxMessageIds()) ids.push(id);
    } else {
      const page = await client.listInbox();
      ids.push(...page.messageIds);
      more = page.continueFrom !== undefined;
    }
    if (out.json) {
      out.result({ messageIds: ids, count: ids.length, more });
    } else {
      for (const id of ids) out.say(id);
      if (more) out.say('(more messages: use --all)');
      if (ids.length === 0) out.say('inbox empty');
    }
  });
}

export function count(options: MeshClientOptions, out: Output): Promise<void> {
  return withClient(options, async (client) => {
    const waiting = await client.countInbox();
    if (out.json) out.result({ mailboxId: client.mailboxId, count: waiting });
    else out.say(`${waiting} message(s) waiting in ${client.mailboxId}`);
  });
}

export function download(
  options: MeshClientOptions,
  out: Output,
  messageId: string,
  flags: { out?: string; ack?: boolean },
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  if (out.json && !flags.out)
    throw new UsageError('download --json needs --out FILE (stdout carries the JSON)');
  return withClient(options, async (client) => {
    const { metadata, body } = await client.download(messageId);
    const hash = createHash('sha256');
    let bytes = 0;
    const bar = new ProgressBar(`download ${messageId}`, Number.NaN);
    const tap = new PassThrough();
    tap.on('data', (data: Buffer) => {
      hash.update(data);
      bytes += data.length;
      bar.update(bytes);
    });
    const expected = sha256FromChecksum(metadata.contentChecksum);
    let sha256 = '';
    // A download whose bytes do not match the sender's SHA-256 is never acknowledged, and never looks complete.
    const verify = () => {
      sha256 = hash.digest('hex');
      if (expected !== undefined && expected !== sha256) {
        throw new CliError(
          `${messageId}: the downloaded bytes' SHA-256 ${sha256} does not match ${expected} in mex-Content-Checksum; ` +
            'not acknowledged (download it again, or ask the sender)',
        );
      }
    };
    if (flags.out) {
      // Written under a temporary name and renamed, so a broken download never looks like a complete file.
      const partial = `${flags.out}.partial`;
      try {
        await pipeline(body, tap, createWriteStream(partial));
        verify();
        await rename(partial, flags.out);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    } else {
      await pipeline(body, tap, stdout as Writable, { end: false });
      verify();
    }
    bar.finish();
    if (flags.ack) await client.acknowledge(messageId);
    const summary = describeDownload(metadata, bytes, sha256, flags.ack === true, flags.out);
    const checksum = expected === undefined ? {} : { checksumVerified: true };
    if (out.json) out.result({ ...summary, ...checksum });
    else if (flags.out) {
      out.say(
        `downloaded ${messageId} to ${flags.out} (${bytes} bytes, sha256 ${summary.sha256})${flags.ack ? ', acknowledged' : ''}`,
      );
    }
  });
}

function describeDownload(
  m: MessageMetadata,
  bytes: number,
  sha256: string,
  acknowledged: boolean,
  file?: string,
) {
  return {
    messageId: m.messageId,
    messageType: m.messageType,
    from: m.from,
    to: m.to,
    workflowId: m.workflowId,
    subject: m.subject,
    localId: m.localId,
    fileName: m.fileName,
    contentType: m.contentType,
    contentChecksum: m.contentChecksum,
    chunks: m.totalChunks,
    linkedMessageId: m.linkedMessageId,
    statusCode: m.statusCode,
    statusDescription: m.statusDescription,
    bytes,
    sha256,
    file,
    acknowledged,
  };
}

export function ack(options: MeshClientOptions, out: Output, messageId: string): Promise<void> {
  return withClient(options, async (client) => {
    await client.acknowledge(messageId);
    if (out.json) out.result({ messageId, acknowledged: true });
    else out.say(`acknowledged ${messageId}`);
  });
}

export function track(options: MeshClientOptions, out: Output, messageId: string): Promise<void> {
  return withClient(options, async (client) => {
    const tracking = await client.track(messageId);
    if (out.json) return out.result(tracking);
    for (const [key, value] of Object.entries(tracking)) if (value !== undefined) out.say(`${key}: ${value}`);
  });
}

export function lookup(
  options: MeshClientOptions,
  out: Output,
  run: (client: MeshClient) => Promise<{ mailboxId: string; mailboxName?: string }[]>,
): Promise<void> {
  return withClient(options, async (client) => {
    const results = await run(client);
    if (out.json) return out.result({ results });
    if (results.length === 0) out.say('no mailboxes found');
    for (const r of results) out.say(`${r.mailboxId}${r.mailboxName ? `\t${r.mailboxName}` : ''}`);
  });
}

function fileProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}

/** Bytes as a whole number, or with a KiB/MiB/GiB/KB/MB/GB suffix. */
export function parseByteSize(text: string): number {
  const m = /^(\d+)\s*(B|KB|MB|GB|KIB|MIB|GIB|K|M|G)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`"${text}" is not a size in bytes (e.g. 20971520 or 20MiB)`);
  const factors: Record<string, number> = {
    B: 1,
    KB: 1e3,
    MB: 1e6,
    GB: 1e9,
    K: 1024,
    KIB: 1024,
    M: 1024 ** 2,
    MIB: 1024 ** 2,
    G: 1024 ** 3,
    GIB: 1024 ** 3,
  };
  return Number(m[1]) * factors[(m[2] ?? 'B').toUpperCase()]!;
}
