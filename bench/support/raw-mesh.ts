import type { Readable } from 'node:stream';
import { request, type Agent } from 'undici';
import {
  API_PREFIX,
  AuthTokenGenerator,
  H,
  MESH_V2_ACCEPT,
  createMeshAgent,
  parseChunkRange,
} from '../../shared/mesh/index.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';

/**
 * The baseline: bare undici requests to the MESH server with the mailbox's client certificate (an Agent from
 * shared/mesh's createMeshAgent) and a fresh NHSMESH token each (AuthTokenGenerator). No retries, no hashing, no
 * checkpoints: what moving the bytes costs on this server, and nothing else.
 */
export class RawMesh {
  private readonly agent: Agent;
  private readonly tokens: AuthTokenGenerator;

  constructor(
    private readonly baseUrl: string,
    private readonly mailboxId: string,
    credentials: MeshCredentials,
  ) {
    this.agent = createMeshAgent({
      cert: credentials.clientCert,
      key: credentials.clientKey,
      ca: credentials.caCert,
    });
    this.tokens = new AuthTokenGenerator(mailboxId, credentials.password, credentials.sharedSecret);
  }

  /** POSTs chunk `number` of `total` (chunk 1 creates the message) and returns the message id. */
  async postChunk(options: {
    readonly number: number;
    readonly total: number;
    readonly messageId?: string;
    readonly to: string;
    readonly workflowId: string;
    readonly body: Readable | Buffer;
    readonly length: number;
    /** `gzip` when the body is gzipped (every chunk of a message the same as chunk 1, as MESH requires). */
    readonly contentEncoding?: 'gzip';
  }): Promise<string> {
    const first = options.number === 1;
    const path = first ? `/outbox` : `/outbox/${encodeURIComponent(options.messageId!)}/${options.number}`;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(options.length),
      ...(options.contentEncoding ? { 'content-encoding': options.contentEncoding } : {}),
      [H.chunkRange]: `${options.number}:${options.total}`,
      ...(first ? { [H.to]: options.to, [H.workflowId]: options.workflowId } : {}),
    };
    const res = await this.send('POST', path, headers, options.body);
    const text = await res.body.text();
    if (res.statusCode !== 202)
      throw new Error(`baseline POST of chunk ${options.number}: HTTP ${res.statusCode}`);
    if (!first) return options.messageId!;
    const messageId = (JSON.parse(text) as { message_id?: string }).message_id;
    if (!messageId) throw new Error('baseline POST: no message id in the answer');
    return messageId;
  }

  /**
   * GETs chunk `number` of a message and hands over its body, unread, with its length and the message's chunk
   * count. The caller must consume the body. Only plain chunks: the baseline copies them as they are.
   */
  async openChunk(
    messageId: string,
    number: number,
  ): Promise<{ body: Readable; length: number; total: number }> {
    const suffix = number === 1 ? '' : `/${number}`;
    const res = await this.send('GET', `/inbox/${encodeURIComponent(messageId)}${suffix}`, {
      'accept-encoding': 'gzip',
    });
    const length = Number(res.headers['content-length']);
    if (
      (res.statusCode !== 200 && res.statusCode !== 206) ||
      res.headers['content-encoding'] ||
      !(length >= 0)
    ) {
      await res.body.dump();
      throw new Error(
        `baseline GET of chunk ${number}: HTTP ${res.statusCode}, ` +
          `content-encoding ${String(res.headers['content-encoding'] ?? 'none')}, content-length ${length}`,
      );
    }
    const range = parseChunkRange(String(res.headers[H.chunkRange] ?? ''));
    return { body: res.body, length, total: range?.total ?? 1 };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: Readable | Buffer,
  ) {
    const url = new URL(`${API_PREFIX}/${this.mailboxId}${path}`, this.baseUrl);
    return request(url, {
      method,
      headers: { accept: MESH_V2_ACCEPT, authorization: this.tokens.next(), ...headers },
      body,
      dispatcher: this.agent,
    });
  }
}
