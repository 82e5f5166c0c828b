/** What handlers answer with, and how it goes onto the wire (including a deliberately broken response). */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MESH_V2_ACCEPT } from '../../shared/mesh/protocol.js';
import type { MeshHttpError } from './errors.js';

export interface Reply {
  status: number;
  /** Lowercase names. */
  headers: Record<string, string>;
  body?: Buffer;
  /** A body streamed from the store; opened only when the reply is written. */
  stream?: () => Promise<Readable>;
  /** For the log line when the path does not name the message (a send). */
  messageId?: string;
  /**
   * Write the status line and headers by hand, byte for byte (UTF-8), then close the connection: only for
   * admin-injected hostile messages, whose headers may hold what Node's HTTP server refuses to send.
   */
  verbatim?: boolean;
}

export const MESH_JSON = MESH_V2_ACCEPT;

export function jsonReply(status: number, value: unknown, contentType = MESH_JSON): Reply {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return { status, headers: { 'content-type': contentType, 'content-length': String(body.length) }, body };
}

export function emptyReply(status: number, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-length': '0', ...headers } };
}

export function errorReply(error: MeshHttpError): Reply {
  const reply = jsonReply(error.status, error.body);
  Object.assign(reply.headers, error.headers);
  return reply;
}

export async function writeReply(res: ServerResponse, reply: Reply, isHead: boolean): Promise<void> {
  // Opened before the headers go out, so a chunk missing from the store can still be answered with a 500.
  const stream = reply.stream && !isHead ? await reply.stream() : undefined;
  if (reply.verbatim) {
    await writeVerbatim(res, reply, stream, isHead);
    return;
  }
  res.writeHead(reply.status, reply.headers);
  if (isHead) {
    res.end();
    return;
  }
  if (stream) {
    await pipeline(stream, res);
    return;
  }
  await new Promise<void>((resolve) => res.end(reply.body ?? Buffer.alloc(0), () => resolve()));
}

/** Bypasses Node's header checks: the head goes straight onto the socket, then the body, then the connection closes. */
async function writeVerbatim(
  res: ServerResponse,
  reply: Reply,
  stream: Readable | undefined,
  isHead: boolean,
): Promise<void> {
  const socket = res.socket;
  if (!socket) {
    stream?.destroy();
    return;
  }
  const lines = [`HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Unknown'}`];
  for (const [name, value] of Object.entries({ ...reply.headers, connection: 'close' })) {
    lines.push(`${name}: ${value}`);
  }
  await new Promise<void>((resolve) =>
    socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), () => resolve()),
  );
  if (!isHead) {
    if (stream) {
      for await (const piece of stream) {
        await new Promise<void>((resolve) => socket.write(piece as Buffer, () => resolve()));
      }
    } else if (reply.body?.length) {
      await new Promise<void>((resolve) => socket.write(reply.body!, () => resolve()));
    }
  }
  socket.end();
}

/**
 * Does the work's answer only partly: the headers and the first `afterBytes` body bytes, then the connection
 * drops, so the client cannot read the whole answer. When the body is not longer than `afterBytes` the
 * connection drops before the headers, since sending them would deliver the complete answer.
 */
export async function writeTruncatedReply(
  res: ServerResponse,
  reply: Reply,
  afterBytes: number,
): Promise<void> {
  const socket = res.socket;
  const declared = Number(reply.headers['content-length'] ?? NaN);
  if (!reply.stream && (reply.body?.length ?? 0) <= afterBytes) {
    socket?.destroy();
    return;
  }
  if (reply.stream && Number.isFinite(declared) && declared <= afterBytes) {
    socket?.destroy();
    return;
  }
  const prefix = reply.stream
    ? await readPrefix(await reply.stream(), afterBytes)
    : reply.body!.subarray(0, afterBytes);
  res.writeHead(reply.status, reply.headers);
  if (prefix.length === 0) res.flushHeaders();
  await new Promise<void>((resolve) => {
    if (prefix.length > 0) res.write(prefix, () => resolve());
    else setImmediate(resolve);
  });
  socket?.destroy();
}

async function readPrefix(stream: Readable, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  for await (const piece of stream) {
    if (have >= bytes) break;
    const data = piece as Buffer;
    parts.push(data.subarray(0, bytes - have));
    have += Math.min(data.length, bytes - have);
  }
  stream.destroy();
  return Buffer.concat(parts);
}
