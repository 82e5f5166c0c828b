import { request, type Agent } from 'undici';
import type { AdminMessageView } from '../../local/mesh-server/admin.js';
import type { FaultRule } from '../../local/mesh-server/faults.js';
import { createMeshAgent } from '../../shared/mesh/index.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';

/**
 * The local MESH server's admin endpoints, over HTTPS: the server runs in a process of its own (see
 * mesh-server-process.ts), so its in-process `admin` is out of reach. They need no token, only a client
 * certificate the server's CA issued (any mailbox's).
 */
export class MeshAdmin {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    credentials: MeshCredentials,
  ) {
    this.agent = createMeshAgent({
      cert: credentials.clientCert,
      key: credentials.clientKey,
      ca: credentials.caCert,
    });
  }

  /** Replaces every fault rule. */
  async setFaults(rules: readonly FaultRule[]): Promise<void> {
    await this.call('PUT', '/admin/faults', { rules });
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/admin/faults');
  }

  /** Deletes every message to or from the mailbox, and its stored chunks: a long run's store stays small. */
  async resetMailbox(mailboxId: string): Promise<void> {
    await this.call('DELETE', `/admin/reset/${encodeURIComponent(mailboxId)}`);
  }

  /** How a message is stored: its Content-Encoding and the size of each chunk as sent. */
  async message(messageId: string): Promise<AdminMessageView> {
    const text = await this.call('GET', `/admin/message/${encodeURIComponent(messageId)}`);
    return JSON.parse(text) as AdminMessageView;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<string> {
    const res = await request(new URL(path, this.baseUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: this.agent,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300)
      throw new Error(`MESH admin ${method} ${path}: HTTP ${res.statusCode} ${text}`);
    return text;
  }
}

/** Bytes a message's chunks took on the wire (as MESH stores them: gzipped when sent gzipped). */
export function wireBytes(message: AdminMessageView): number {
  return message.chunk_sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
}
